// `props serve [--port N] [--host H] [--db FILE | --database-url URL --fleet-seal FILE] [--seal FILE] [--model FILE]
// [--rate N]`: boots a simulated enclave and serves the scoring API from an embedded SQLite file or, for a fleet of
// instances, from one PostgreSQL database. Keys derive from a sim-sealed seed file so a restart (after a crash) can
// still decrypt accepted submissions and finish their jobs; on real hardware that seed is sealed by the platform. A
// fleet's instances also share a fleet seed (the nullifier key: one count per borrower across the fleet).
import { createHmac } from 'node:crypto';
import { existsSync, linkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command } from '../protocol/index.ts';
import { address, APP_NAME, appIdOf, chainKeyId, parseJsonText, PropsError, type Hex } from '../protocol/index.ts';
import { bootEnclave, REPO_ROOT } from './boot.ts';
import { DEFAULT_MODEL_PATH, loadModel } from './model/index.ts';
import { loadPipelinePolicy } from './pipeline-policy.ts';
import { oracleBoundary } from './api/oracle-adapters.ts';
import { modelScorer } from './api/model-scorer.ts';
import { loadDefaultPolicy, parseProvenancePolicy, provenanceVerifier } from '../verifier/index.ts';
import { computeCodeHash } from './code-hash.ts';
import { connectKms } from './kms/client.ts';
import type { FleetSecrets } from './kms/secrets.ts';
import type { TransparencyLog } from './log/index.ts';
import { systemRandom, type Random } from './keys.ts';
import { createSimPlatform } from './platforms/sim.ts';
import type { Logger } from './api/index.ts';
import { checkHttpLimits, DEFAULT_HTTP_LIMITS, serveHttp, type HttpLimits } from './api/listen.ts';
import { createService } from './service.ts';
import { openPostgresStore, openSqliteStore, type Store } from './store/index.ts';

const USAGE = `usage: props serve [--port N] [--host ADDR] [--db FILE | --database-url postgres://… (--fleet-seal FILE | --kms URL …)] [--seal FILE] [--kms URL … [--app NAME]] [--model FILE] [--pipeline-policy FILE] [--provider cpu|cuda] [--provenance-policy FILE] [--rate N] [--borrower-cap N] [--result-signing each|batch] [--anchor-rpc URL --anchor-registry ADDRESS] [--max-connections N] [--headers-timeout-ms MS] [--request-timeout-ms MS] [--keep-alive-ms MS] [--quiet]
  --database-url URL               serve from this PostgreSQL database (also PROPS_DATABASE_URL), shared by any number
                                   of instances; needs --seal (each instance's own keys, kept across restarts) and
                                   --fleet-seal (the same file on every instance: the fleet's nullifier key; made if
                                   missing, refused if another instance started from a different one)
  --kms URL                        fleet keys from the key-release service at URL (repeat for each replica): the
                                   data key owners encrypt to and the nullifier key are released to this boot's
                                   evidence; signed log heads are reported to every replica, and a log behind or
                                   forked from the highest witnessed head refuses to start. Without it, keys come
                                   from the sealed seed of this host alone
  --app NAME                       the app whose secrets to ask for (default props-credit)
  --pipeline-policy FILE           the pipeline policy (model hash, result lifetime, EIP-712 domain): its hash is part
                                   of the pipeline id; a new one is a new version (default: the shipped policy)
  --anchor-rpc, --anchor-registry  read the enclave key's last checkpoint from this registry at start: a local log
                                   shorter than it (ERR_STATE_ROLLED_BACK) or differing from it (ERR_STATE_FORKED)
                                   refuses to start
  --max-connections N              open connections at most; more are closed as they arrive (default ${DEFAULT_HTTP_LIMITS.maxConnections})
  --headers-timeout-ms MS          a request's headers must arrive within this (default ${DEFAULT_HTTP_LIMITS.headersTimeoutMs})
  --request-timeout-ms MS          a whole request, headers and body, must arrive within this; at least the headers
                                   timeout (default ${DEFAULT_HTTP_LIMITS.requestTimeoutMs})
  --keep-alive-ms MS               an idle kept-alive connection is closed after this (default ${DEFAULT_HTTP_LIMITS.keepAliveMs})`;

/** Static pages the dispatcher injects (the enclave part does not bundle other parts' browser code). */
export type Pages = Record<string, { contentType: string; body: string }>;
/** Reads an enclave key's last checkpoint from a registry (the dispatcher injects the chain client). */
export type AnchorReader = (o: {
  rpcUrl: string;
  registry: Hex;
  keyId: Hex;
}) => Promise<{ treeSize: number; root: Hex } | undefined>;
const DEFAULT_PROVENANCE_POLICY = fileURLToPath(new URL('./provenance-policy.json', import.meta.url));

function seeded(seed: Uint8Array): Random {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 32) {
      const block = createHmac('sha256', seed).update(`props.seal.v1/${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - i)), i);
    }
    return out;
  };
}

export const serveCommand: Command = serveCommandWith({});

type ServeOptions = {
  port: number;
  host: string;
  db: string;
  databaseUrl: string | undefined;
  seal: string | undefined;
  fleetSeal: string | undefined;
  kms: string[];
  app: string;
  model: string | undefined;
  pipelinePolicy: string | undefined;
  provider: 'cpu' | 'cuda';
  provenancePolicy: string;
  rate: number | undefined;
  cap: number | undefined;
  resultSigning: 'each' | 'batch';
  anchor: { rpcUrl: string; registry: Hex } | undefined;
  http: HttpLimits;
  quiet: boolean;
};

/** A flag's decimal value, or NaN (refused): `Number()` would read '', ' 7' and '1e3' as numbers. */
const decimal = (v: string | undefined, fallback: number) =>
  v === undefined ? fallback : /^[1-9][0-9]{0,15}$/.test(v) ? Number(v) : Number.NaN;

/** The options, or the reason they are refused (usage, exit 2) — checked before anything is opened or written. */
function parseServeOptions(argv: string[], canAnchor: boolean): ServeOptions | string {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      db: { type: 'string', default: ':memory:' },
      'database-url': { type: 'string' },
      seal: { type: 'string' },
      'fleet-seal': { type: 'string' },
      kms: { type: 'string', multiple: true },
      app: { type: 'string', default: 'props-credit' },
      model: { type: 'string' },
      'pipeline-policy': { type: 'string' },
      provider: { type: 'string', default: 'cpu' },
      'provenance-policy': { type: 'string' },
      rate: { type: 'string' },
      'borrower-cap': { type: 'string' },
      'result-signing': { type: 'string', default: 'each' },
      'anchor-rpc': { type: 'string' },
      'anchor-registry': { type: 'string' },
      'max-connections': { type: 'string' },
      'headers-timeout-ms': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      'keep-alive-ms': { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const port = Number(values.port);
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  const cap = values['borrower-cap'] === undefined ? undefined : Number(values['borrower-cap']);
  if (
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65535 ||
    (rate !== undefined && !(rate >= 1)) ||
    (cap !== undefined && !(cap >= 1))
  )
    return '';
  const http: HttpLimits = {
    ...DEFAULT_HTTP_LIMITS,
    maxConnections: decimal(values['max-connections'], DEFAULT_HTTP_LIMITS.maxConnections),
    headersTimeoutMs: decimal(values['headers-timeout-ms'], DEFAULT_HTTP_LIMITS.headersTimeoutMs),
    requestTimeoutMs: decimal(values['request-timeout-ms'], DEFAULT_HTTP_LIMITS.requestTimeoutMs),
    keepAliveMs: decimal(values['keep-alive-ms'], DEFAULT_HTTP_LIMITS.keepAliveMs),
  };
  const httpProblem = checkHttpLimits(http);
  if (httpProblem) return httpProblem;
  const resultSigning = values['result-signing'];
  if (resultSigning !== 'each' && resultSigning !== 'batch') return '--result-signing must be each or batch';
  if (values.provider !== 'cpu' && values.provider !== 'cuda') return '--provider must be cpu or cuda';
  const rpcUrl = values['anchor-rpc'];
  const registry = values['anchor-registry'];
  if (
    (rpcUrl === undefined) !== (registry === undefined) ||
    (registry !== undefined && !address.safeParse(registry).success) ||
    (rpcUrl !== undefined && !/^https?:\/\/\S+$/.test(rpcUrl))
  ) {
    return '--anchor-rpc URL and --anchor-registry ADDRESS go together';
  }
  if (rpcUrl !== undefined && !canAnchor) return 'this build has no chain client for --anchor-rpc';
  const databaseUrl = values['database-url'] ?? process.env.PROPS_DATABASE_URL;
  const kms = values.kms ?? [];
  if (kms.some((u) => !/^https?:\/\/\S+$/.test(u))) return '--kms takes an http(s) URL';
  if (!APP_NAME.test(values.app)) return '--app must be 1-64 of a-z 0-9 . _ -, starting with a letter or digit';
  if (kms.length > 0 && values['fleet-seal'] !== undefined)
    return '--kms and --fleet-seal exclude each other (the KMS releases the nullifier key)';
  if (
    databaseUrl !== undefined &&
    (values.db !== ':memory:' || values.seal === undefined || (values['fleet-seal'] === undefined && kms.length === 0))
  ) {
    return '--database-url takes --seal FILE and --fleet-seal FILE (or --kms URL), and no --db';
  }
  if (databaseUrl === undefined && values['fleet-seal'] !== undefined) return '--fleet-seal goes with --database-url';
  return {
    port,
    host: values.host,
    db: values.db,
    databaseUrl,
    seal: values.seal ?? (values.db !== ':memory:' ? `${values.db}.seal` : undefined),
    fleetSeal: values['fleet-seal'],
    kms,
    app: values.app,
    model: values.model,
    pipelinePolicy: values['pipeline-policy'],
    provider: values.provider,
    provenancePolicy: values['provenance-policy'] ?? DEFAULT_PROVENANCE_POLICY,
    rate,
    cap,
    resultSigning,
    anchor: rpcUrl !== undefined ? { rpcUrl, registry: registry as Hex } : undefined,
    http,
    quiet: values.quiet === true,
  };
}

/** A 32-byte seed from its seal file, made when `mayCreate` (a new database or fleet) and the file is missing. */
function readSeed(path: string | undefined, mayCreate: boolean): Uint8Array {
  if (path && existsSync(path)) {
    const seed = readFileSync(path);
    if (seed.length !== 32) throw new PropsError('ERR_FILE_UNREADABLE', { detail: 'seal file: expected 32 bytes' });
    return seed;
  }
  // A new seed would be new keys and a new nullifier key: the stored submissions could no longer be opened, and
  // every borrower's query count would start over. The host lost or withheld the seal; refuse, do not reseed.
  if (!mayCreate) throw new PropsError('ERR_STATE_SEAL_MISSING', { detail: path ?? 'no --seal' });
  const seed = systemRandom(32);
  if (!path) return seed;
  // Made whole, then linked into place: instances starting together on one host agree on the first one made.
  const made = `${path}.${process.pid}.tmp`;
  writeFileSync(made, seed, { mode: 0o600 });
  try {
    linkSync(made, path);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EEXIST') throw e;
    return readSeed(path, false);
  } finally {
    rmSync(made, { force: true });
  }
  return seed;
}

const nullifierKeyOf = (seed: Uint8Array) => createHmac('sha256', seed).update('props.nullifier-key.v1').digest();

/**
 * The store and this host's seed. PostgreSQL is opened first: a malformed URL or a server that refuses stops there,
 * before anything is written. The nullifier key comes from the fleet seed (a fleet without a KMS), the KMS (after the
 * boot), or this host's seed.
 */
async function openState(o: ServeOptions): Promise<{ store: Store; seed: Uint8Array; nullifierKey?: Uint8Array }> {
  if (o.databaseUrl === undefined) {
    const fresh = o.db === ':memory:' || !existsSync(o.db) || statSync(o.db).size === 0;
    const seed = readSeed(o.seal, fresh);
    return {
      store: openSqliteStore(o.db),
      seed,
      ...(o.kms.length === 0 ? { nullifierKey: nullifierKeyOf(seed) } : {}),
    };
  }
  const store = await openPostgresStore(o.databaseUrl);
  try {
    const seed = readSeed(o.seal, true);
    if (o.kms.length > 0) return { store, seed };
    return { store, seed, nullifierKey: nullifierKeyOf(readSeed(o.fleetSeal, true)) };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/**
 * The first instance records the nullifier key's fingerprint: an instance started from another fleet seed (or another
 * app's KMS) would count borrowers apart, and is refused.
 */
async function checkFleetNullifier(store: Store, nullifierKey: Uint8Array): Promise<void> {
  if (!store.shared) return;
  const fingerprint = createHmac('sha256', nullifierKey).update('props.nullifier-key-id.v1').digest('hex');
  if ((await store.firstValue('nullifier-key-id', fingerprint)) !== fingerprint)
    throw new PropsError('ERR_STATE_FLEET_SEAL_MISMATCH');
}

export function serveCommandWith(extras: { pages?: () => Promise<Pages>; anchor?: AnchorReader }): Command {
  return {
    summary: 'serve the scoring API (lender jobs, submissions, consents, transparency log) from a simulated enclave',
    usage: USAGE,
    async run(argv) {
      const o = parseServeOptions(argv, extras.anchor !== undefined);
      if (typeof o === 'string') {
        process.stderr.write(`${o ? `props serve: ${o}\n` : ''}${USAGE}\n`);
        return 2;
      }
      const state = await openState(o);
      const svc = await bootService(o, state, extras.anchor).catch(async (e: unknown) => {
        await state.store.close();
        throw e;
      });
      const { store } = state;
      const pages = extras.pages ? await extras.pages() : {};
      for (const [path, page] of Object.entries(pages))
        svc.app.get(path, (c) =>
          c.body(page.body, 200, { 'content-type': page.contentType, 'cache-control': 'no-cache' }),
        );
      const retention = setInterval(() => void svc.applyRetention().catch(() => {}), 60_000);
      retention.unref();
      await listen(
        o,
        svc,
        store,
        Object.keys(pages).filter((p) => p.endsWith('.html')),
      );
      return 0;
    },
  };
}

/** Boots the simulated enclave from the seed (its platform, the pinned model) and assembles the service on the store. */
async function bootService(
  o: ServeOptions,
  state: { store: Store; seed: Uint8Array; nullifierKey?: Uint8Array },
  readAnchor: AnchorReader | undefined,
) {
  const random = seeded(state.seed);
  const platform = await createSimPlatform({ random });
  // The model must be the one the pipeline policy pins (ERR_MODEL_HASH_MISMATCH otherwise): one session, at boot.
  const pipelinePolicy = loadPipelinePolicy(o.pipelinePolicy);
  const model = await loadModel({
    path: o.model ?? DEFAULT_MODEL_PATH,
    expectedHash: pipelinePolicy.modelHash,
    executionProvider: o.provider,
    allowCpuFallback: true,
  });
  const codeHash = computeCodeHash(REPO_ROOT).codeHash;
  const kms = o.kms.length > 0 ? await connectFleetKms(o, codeHash) : undefined;
  let released: FleetSecrets | undefined;
  const enclave = await bootEnclave({
    platform,
    random,
    model,
    pipelinePolicy,
    codeHash,
    ...(kms ? { fleet: kms.fleetBoot((s) => void (released = s)) } : {}),
  });
  const nullifierKey = released?.nullifierKey ?? state.nullifierKey;
  if (!nullifierKey) throw new PropsError('ERR_KMS_NOT_READY');
  await checkFleetNullifier(state.store, nullifierKey);
  const provenancePolicy = parseProvenancePolicy(parseJsonText(readFileSync(o.provenancePolicy, 'utf8'), 1 << 20));
  const boundary = oracleBoundary({
    enclave,
    verifyProvenance: provenanceVerifier(provenancePolicy, [enclave.evidence.keys.jws]),
    clock: () => new Date(),
  });
  const anchor = o.anchor;
  const logger: Logger = o.quiet ? () => {} : (e) => process.stderr.write(`${JSON.stringify(e)}\n`);
  return createService({
    enclave,
    store: state.store,
    adminToken: process.env.PROPS_ADMIN_TOKEN ?? Buffer.from(systemRandom(32)).toString('base64url'),
    ...(readAnchor && anchor
      ? { anchor: () => readAnchor({ ...anchor, keyId: chainKeyId(enclave.evidence.keys.chain.publicKey as Hex) }) }
      : {}),
    ...(kms
      ? {
          witness: {
            head: (logId: Hex) => kms.witnessedHead(logId),
            reporter: (log: TransparencyLog) =>
              kms.headReporter({
                evidence: enclave.evidence,
                manifest: enclave.manifest,
                logId: log.id,
                consistency: (oldSize, newSize) => log.consistency(oldSize, newSize).proof,
                onError: (code) => logger({ event: 'kms.witness.failed', code }),
              }),
          },
        }
      : {}),
    nullifierKey,
    limits: { ...(o.rate ? { lenderRatePerSecond: o.rate } : {}), ...(o.cap ? { borrowerCap: o.cap } : {}) },
    scorer: modelScorer(model),
    ingest: boundary.ingest,
    verifyConsent: boundary.verifyConsent,
    resultSigning: o.resultSigning,
    logger,
  });
}

/**
 * The KMS replicas, each verified before it is asked anything. This serve is a simulated enclave, so it accepts a
 * simulated KMS (said in its start line); a KMS of other code than this instance ships is refused.
 */
function connectFleetKms(o: ServeOptions, codeHash: Hex) {
  return connectKms({
    urls: o.kms,
    app: appIdOf(o.app),
    codeHash,
    policy: { evidence: loadDefaultPolicy(), allowSimulated: true },
    clock: () => new Date(),
  });
}

/** Serves until SIGINT or SIGTERM; the first stdout line says where and what (the admin token when it was made here). */
function listen(
  o: ServeOptions,
  svc: Awaited<ReturnType<typeof bootService>>,
  store: Store,
  pages: string[],
): Promise<void> {
  const { enclave } = svc.deps;
  return new Promise<void>((resolve) => {
    const server = serveHttp({ fetch: svc.app.fetch, port: o.port, hostname: o.host, limits: o.http }, (info) => {
      process.stdout.write(
        `${JSON.stringify({
          url: `http://${o.host}:${info.port}`,
          port: info.port,
          platform: enclave.manifest.platform,
          store: o.databaseUrl !== undefined ? 'postgres' : 'sqlite',
          // Where the keys that open submissions come from: the KMS (fleet keys), or this host's sealed seed alone.
          keys: o.kms.length > 0 ? 'kms' : 'sealed-seed',
          logId: svc.deps.log.id,
          simulated: true,
          pipelineId: enclave.pipelineId,
          modelHash: enclave.manifest.modelHash,
          executionProvider: enclave.manifest.executionProvider,
          pages,
          ...(process.env.PROPS_ADMIN_TOKEN === undefined ? { adminToken: svc.adminToken } : {}),
        })}\n`,
      );
    });
    const stop = () => {
      svc.runner.stop();
      server.close(() => {
        // The batch under way finishes, and a head covering every result this instance logged is signed before the
        // store closes: other instances serve this log's proofs only under heads its owner signed.
        void svc.runner
          .idle()
          .then(() => svc.deps.log.signedHead())
          .catch(() => {})
          .then(() => store.close())
          .finally(resolve);
      });
      // Keep-alive clients would hold close() open: drop idle connections now, the rest after a grace period.
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
