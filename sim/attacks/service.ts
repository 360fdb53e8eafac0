// The scoring service layer (HTTP, SQLite): limits and input checks at the API, and a host rolling the enclave's
// database back behind its on-chain checkpoint. Each scenario runs its own service on its own database.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { checkpointDigest, fromHex } from '../../protocol/index.ts';
import { startScoringService, type RunningService } from '../service.ts';
import { random32, type World } from '../world.ts';
import { rejection, type AttackContext } from './context.ts';
import { bindScenarios, type Attempt, type Scenario, type ScenarioOn } from './types.ts';

/** The catalogue's context and the folder its services keep their databases in. */
type ServiceContext = AttackContext & { dir: string };
type ServiceOptions = Parameters<typeof startScoringService>[0];
type SimEnclave = Awaited<ReturnType<World['bootSim']>>;

/** A scoring service of the world's enclave on `db` in the context's folder. */
const start = (c: ServiceContext, db: string, extra: Partial<ServiceOptions> = {}) =>
  startScoringService({
    enclave: c.w.enclave,
    model: c.w.model,
    provenancePolicy: c.side.provenancePolicy,
    dbPath: join(c.dir, db),
    ...extra,
  });

/** Runs `fn` against a service started on `db`, closing it after. */
async function withService(
  c: ServiceContext,
  db: string,
  extra: Partial<ServiceOptions>,
  fn: (svc: RunningService) => Promise<Attempt>,
): Promise<Attempt> {
  const svc = await start(c, db, extra);
  try {
    return await fn(svc);
  } finally {
    await svc.close();
  }
}

async function queryCapThroughManyLenders(c: ServiceContext): Promise<Attempt> {
  return withService(c, 'cap.db', { limits: { borrowerCap: 3 } }, async (svc) => {
    c.side.useService(svc.url);
    // One borrower, probed by four "independent" lenders: the nullifier counts the borrower, not the lender.
    let last: { status: number; json: Record<string, unknown> } | undefined;
    for (let k = 0; k < 4; k++) {
      const acct = await svc.createLender(`prober ${k}`);
      const s = await c.side.submitAndConsent(0, 'signed-source', acct.lenderId);
      last = await svc.post(
        '/v1/jobs',
        { consentId: s.consentId, nonce: random32() },
        { authorization: `Bearer ${acct.apiKey}`, 'idempotency-key': `probe-${k}-${Date.now()}` },
      );
      if (k < 3 && last.status !== 201) return { code: `EARLY_${String(last.json.code)}` };
    }
    return { code: (last?.json.code as string) ?? null, traceFree: (await svc.logSize()) === 3 };
  });
}

async function oversizedRequest(c: ServiceContext): Promise<Attempt> {
  return withService(c, 'big.db', {}, async (svc) => {
    const r = await svc.post('/v1/submissions', { jwe: 'a'.repeat(1024 * 1024) });
    return { code: (r.json.code as string) ?? null, traceFree: (await svc.logSize()) === 0 };
  });
}

async function malformedRequest(c: ServiceContext): Promise<Attempt> {
  return withService(c, 'malformed.db', {}, async (svc) => {
    const acct = await svc.createLender('malformed');
    const r = await svc.post(
      '/v1/jobs',
      { consentId: random32(), nonce: random32(), admin: true },
      { authorization: `Bearer ${acct.apiKey}`, 'idempotency-key': 'malformed-0001' },
    );
    return { code: (r.json.code as string) ?? null, traceFree: (await svc.logSize()) === 0 };
  });
}

/** One scoring job through `svc` for a new lender named `tag`, the borrower side pointed at `e`. */
async function scoreOnce(c: ServiceContext, e: SimEnclave, svc: RunningService, tag: string): Promise<void> {
  c.side.retarget(e);
  c.side.useService(svc.url);
  const acct = await svc.createLender(tag);
  const s = await c.side.submitAndConsent(0, 'signed-source', acct.lenderId);
  await svc.post(
    '/v1/jobs',
    { consentId: s.consentId, nonce: random32() },
    { authorization: `Bearer ${acct.apiKey}`, 'idempotency-key': `${tag}-0001` },
  );
}

/** The size and root of `svc`'s log head. */
async function headOf(svc: RunningService): Promise<{ size: number; root: Hex }> {
  const size = await svc.logSize();
  const root = ((await (await fetch(`${svc.url}/v1/log/head`)).json()) as { rootHash: Hex }).rootHash;
  return { size, root };
}

/** The enclave key `e` (registered as `keyId`) anchors a log head on chain. */
async function anchorHead(c: ServiceContext, e: SimEnclave, keyId: Hex, { size, root }: { size: number; root: Hex }) {
  const sig = await e.keys.chainSigner.signDigest(
    fromHex(checkpointDigest(c.w.gov.registryDomain(), { keyId, treeSize: BigInt(size), root }), 32),
  );
  await c.w.relayer.postCheckpoint(e.evidence.keys.chain.publicKey as Hex, BigInt(size), root, sig);
}

async function stateRolledBackByHost(c: ServiceContext): Promise<Attempt> {
  const db = join(c.dir, 'state.db');
  const rollbackKey = await c.w.bootSim();
  const { keyId } = await c.w.registerEnclave(rollbackKey);
  const anchor = async () => {
    const h = await c.w.gov.getHead(keyId);
    return { treeSize: Number(h.treeSize), root: h.root as Hex };
  };
  const svcFor = () => start(c, 'state.db', { enclave: rollbackKey, anchor });
  let svc = await svcFor();
  await scoreOnce(c, rollbackKey, svc, 'before');
  await svc.close();
  const snapshot = [db, `${db}-wal`].map((f) => (existsSync(f) ? readFileSync(f) : undefined));
  svc = await svcFor();
  await scoreOnce(c, rollbackKey, svc, 'after');
  const head = await headOf(svc);
  await svc.close();
  // The enclave key anchors its head on chain …
  await anchorHead(c, rollbackKey, keyId, head);
  // … then the host restores yesterday's database and restarts the enclave.
  [db, `${db}-wal`].forEach((f, k) => (snapshot[k] ? writeFileSync(f, snapshot[k]!) : rmSync(f, { force: true })));
  rmSync(`${db}-shm`, { force: true });
  c.side.retarget(c.w.enclave);
  return { code: await rejection(() => svcFor()) };
}

const SERVICE: ScenarioOn<ServiceContext>[] = [
  {
    name: 'query cap exceeded through many lender accounts',
    layer: 'service',
    expected: 'ERR_BORROWER_QUERY_CAP',
    run: queryCapThroughManyLenders,
  },
  {
    name: 'oversized request payload (1 MiB submission)',
    layer: 'service',
    expected: 'ERR_INPUT_TOO_LARGE',
    run: oversizedRequest,
  },
  {
    name: 'malformed request payload (unknown field in a scoring job)',
    layer: 'service',
    expected: 'ERR_INPUT_MALFORMED',
    run: malformedRequest,
  },
  {
    name: 'enclave state rolled back by the host (database older than the on-chain checkpoint)',
    layer: 'service',
    expected: 'ERR_STATE_ROLLED_BACK',
    run: stateRolledBackByHost,
  },
];

/** The service catalogue, in the order it runs; its databases go in a fresh folder. */
export const serviceScenarios = (c: AttackContext): Scenario[] =>
  bindScenarios(SERVICE, { ...c, dir: mkdtempSync(join(tmpdir(), 'props-attack-svc-')) });
