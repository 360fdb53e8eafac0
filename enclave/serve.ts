// `props serve [--port N] [--host H] [--db FILE] [--seal FILE] [--model FILE] [--rate N]`: boots a simulated
// enclave and serves the scoring API. Keys derive from a sim-sealed seed file so a restart (after a crash) can
// still decrypt accepted submissions and finish their jobs; on real hardware that seed is sealed by the platform.
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import type { Command } from '../cli/main.ts';
import { address, chainKeyId, parseJsonText, PropsError, type Hex } from '../protocol/index.ts';
import { bootEnclave } from './boot.ts';
import { DEFAULT_MODEL_PATH, loadModel } from './model/index.ts';
import { loadPipelinePolicy } from './pipeline-policy.ts';
import { oracleBoundary } from './api/oracle-adapters.ts';
import { modelScorer } from './api/model-scorer.ts';
import { parseProvenancePolicy, provenanceVerifier } from '../verifier/index.ts';
import { systemRandom, type Random } from './keys.ts';
import { createSimPlatform } from './platforms/sim.ts';
import { createService } from './service.ts';
import { openSqliteStore } from './store/index.ts';

const USAGE = `usage: props serve [--port N] [--host ADDR] [--db FILE] [--seal FILE] [--model FILE] [--provider cpu|cuda] [--provenance-policy FILE] [--rate N] [--borrower-cap N] [--result-signing each|batch] [--anchor-rpc URL --anchor-registry ADDRESS] [--quiet]
  --anchor-rpc, --anchor-registry  read the enclave key's last checkpoint from this registry at start: a local log
                                   shorter than it (ERR_STATE_ROLLED_BACK) or differing from it (ERR_STATE_FORKED)
                                   refuses to start`;

/** Static pages the dispatcher injects (the enclave part does not bundle other parts' browser code). */
export type Pages = Record<string, { contentType: string; body: string }>;
/** Reads an enclave key's last checkpoint from a registry (the dispatcher injects the chain client). */
export type AnchorReader = (o: { rpcUrl: string; registry: Hex; keyId: Hex }) => Promise<{ treeSize: number; root: Hex } | undefined>;
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

export function serveCommandWith(extras: { pages?: () => Promise<Pages>; anchor?: AnchorReader }): Command {
  return {
  summary: 'serve the scoring API (lender jobs, submissions, consents, transparency log) from a simulated enclave',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: '127.0.0.1' },
        db: { type: 'string', default: ':memory:' },
        seal: { type: 'string' },
        model: { type: 'string' },
        provider: { type: 'string', default: 'cpu' },
        'provenance-policy': { type: 'string' },
        rate: { type: 'string' },
        'borrower-cap': { type: 'string' },
        'result-signing': { type: 'string', default: 'each' },
        'anchor-rpc': { type: 'string' },
        'anchor-registry': { type: 'string' },
        quiet: { type: 'boolean' },
      },
    });
    const port = Number(values.port);
    const rate = values.rate === undefined ? undefined : Number(values.rate);
    const cap = values['borrower-cap'] === undefined ? undefined : Number(values['borrower-cap']);
    if (!Number.isInteger(port) || port < 0 || port > 65535 || (rate !== undefined && !(rate >= 1)) || (cap !== undefined && !(cap >= 1))) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    // Usage is checked before anything is written (the seal file below).
    const resultSigning = values['result-signing'];
    if (resultSigning !== 'each' && resultSigning !== 'batch') {
      process.stderr.write(`props serve: --result-signing must be each or batch\n${USAGE}\n`);
      return 2;
    }
    if (values.provider !== 'cpu' && values.provider !== 'cuda') {
      process.stderr.write(`props serve: --provider must be cpu or cuda\n${USAGE}\n`);
      return 2;
    }
    const anchorRpc = values['anchor-rpc'];
    const anchorRegistry = values['anchor-registry'];
    if ((anchorRpc === undefined) !== (anchorRegistry === undefined) || (anchorRegistry !== undefined && !address.safeParse(anchorRegistry).success) || (anchorRpc !== undefined && !/^https?:\/\/\S+$/.test(anchorRpc))) {
      process.stderr.write(`props serve: --anchor-rpc URL and --anchor-registry ADDRESS go together\n${USAGE}\n`);
      return 2;
    }
    if (anchorRpc !== undefined && !extras.anchor) {
      process.stderr.write('props serve: this build has no chain client for --anchor-rpc\n');
      return 2;
    }
    const sealPath = values.seal ?? (values.db !== ':memory:' ? `${values.db}.seal` : undefined);
    let seed: Uint8Array;
    if (sealPath && existsSync(sealPath)) {
      seed = readFileSync(sealPath);
      if (seed.length !== 32) throw new PropsError('ERR_FILE_UNREADABLE', { detail: 'seal file: expected 32 bytes' });
    } else if (values.db !== ':memory:' && existsSync(values.db) && statSync(values.db).size > 0) {
      // A new seed would be new keys and a new nullifier key: the stored submissions could no longer be opened, and
      // every borrower's query count would start over. The host lost or withheld the seal; refuse, do not reseed.
      throw new PropsError('ERR_STATE_SEAL_MISSING', { detail: sealPath ?? 'no --seal' });
    } else {
      seed = systemRandom(32);
      if (sealPath) writeFileSync(sealPath, seed, { mode: 0o600 });
    }
    const random = seeded(seed);
    const platform = await createSimPlatform({ random });
    // The model must be the one the pipeline policy pins (ERR_MODEL_HASH_MISMATCH otherwise): one session, at boot.
    const pipelinePolicy = loadPipelinePolicy();
    const model = await loadModel({ path: values.model ?? DEFAULT_MODEL_PATH, expectedHash: pipelinePolicy.modelHash, executionProvider: values.provider, allowCpuFallback: true });
    const enclave = await bootEnclave({ platform, random, model, pipelinePolicy });
    const provenancePolicy = parseProvenancePolicy(parseJsonText(readFileSync(values['provenance-policy'] ?? DEFAULT_PROVENANCE_POLICY, 'utf8'), 1 << 20));
    const boundary = oracleBoundary({ enclave, verifyProvenance: provenanceVerifier(provenancePolicy, [enclave.evidence.keys.jws]), clock: () => new Date() });
    const store = openSqliteStore(values.db);
    const generated = process.env.PROPS_ADMIN_TOKEN === undefined;
    const adminToken = process.env.PROPS_ADMIN_TOKEN ?? Buffer.from(systemRandom(32)).toString('base64url');
    const quiet = values.quiet === true;
    const readAnchor = anchorRpc !== undefined ? extras.anchor : undefined;
    const svc = await createService({
      enclave,
      store,
      adminToken,
      ...(readAnchor ? { anchor: () => readAnchor({ rpcUrl: anchorRpc as string, registry: anchorRegistry as Hex, keyId: chainKeyId(enclave.evidence.keys.chain.publicKey as Hex) }) } : {}),
      nullifierKey: createHmac('sha256', seed).update('props.nullifier-key.v1').digest(),
      limits: { ...(rate ? { lenderRatePerSecond: rate } : {}), ...(cap ? { borrowerCap: cap } : {}) },
      scorer: modelScorer(model),
      ingest: boundary.ingest,
      verifyConsent: boundary.verifyConsent,
      resultSigning,
      logger: quiet ? () => {} : (e) => process.stderr.write(`${JSON.stringify(e)}\n`),
    });
    const pages = extras.pages ? await extras.pages() : {};
    for (const [path, page] of Object.entries(pages)) svc.app.get(path, (c) => c.body(page.body, 200, { 'content-type': page.contentType, 'cache-control': 'no-cache' }));
    const retention = setInterval(() => void svc.applyRetention().catch(() => {}), 60_000);
    retention.unref();
    await new Promise<void>((resolve) => {
      const server = serve({ fetch: svc.app.fetch, port, hostname: values.host }, (info) => {
        process.stdout.write(
          `${JSON.stringify({
            url: `http://${values.host}:${info.port}`,
            port: info.port,
            platform: enclave.manifest.platform,
            simulated: true,
            pipelineId: enclave.pipelineId,
            modelHash: enclave.manifest.modelHash,
            executionProvider: enclave.manifest.executionProvider,
            pages: Object.keys(pages).filter((p) => p.endsWith('.html')),
            ...(generated ? { adminToken } : {}),
          })}\n`,
        );
      });
      const stop = () => {
        svc.runner.stop();
        server.close(() => {
          store.close();
          resolve();
        });
        // Keep-alive clients would hold close() open: drop idle connections now, the rest after a grace period.
        const s = server as unknown as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
        s.closeIdleConnections?.();
        setTimeout(() => s.closeAllConnections?.(), 2000).unref();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
}
