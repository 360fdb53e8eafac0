// `props sim --attacks`, key release: the app's KMS in process (its HTTP app, reached without a port), releasing the
// fleet secrets only to pipelines the world's registry approves for the app, and witnessing the instances' log heads.
// Each scenario is refused with its code and leaves nothing behind: no secrets released or delivered, the witnessed
// head as it was.
import { base64url } from 'jose';
import {
  appIdOf,
  findPropsError,
  type Evidence,
  type Hex,
  type PublicJwk,
  type WitnessedHead,
} from '../../protocol/index.ts';
import { bootEnclave, createSimPlatform, pipelinePolicyHash, systemRandom, type Enclave } from '../../enclave/index.ts';
import { plainIngest, plainVerifyConsent } from '../../testing/plain-ingest.ts';
import { modelScorer } from '../../enclave/api/model-scorer.ts';
import { createKmsApp } from '../../enclave/kms/app.ts';
import { connectKms, type KmsConnection } from '../../enclave/kms/client.ts';
import { bootKmsIdentity, type KmsIdentity } from '../../enclave/kms/identity.ts';
import { sealRelease } from '../../enclave/kms/messages.ts';
import { dataKeyPair, generateFleetSecrets, secretsToWire, type FleetSecrets } from '../../enclave/kms/secrets.ts';
import { createKms } from '../../enclave/kms/service.ts';
import { openTransparencyLog, type TransparencyLog } from '../../enclave/log/index.ts';
import { createService } from '../../enclave/service.ts';
import { openSqliteStore, type Store } from '../../enclave/store/index.ts';
import { loadDefaultPolicy } from '../../verifier/index.ts';
import { hex, job, NOW, seed } from '../../testing/store-rows.ts';
import type { Scenario } from './types.ts';
import { random32, type World } from '../world.ts';

const APP = appIdOf('props-credit');
const clock = () => new Date();
const policy = (allowSimulated: boolean) => ({ evidence: loadDefaultPolicy(), allowSimulated });

type SimKms = {
  url: string;
  codeHash: Hex;
  identity: KmsIdentity;
  secrets: FleetSecrets;
  fetch: typeof fetch;
  released(): number;
};

type Attempt = { code: string | null; traceFree?: boolean };

const codeOf = (e: unknown): string => findPropsError(e)?.code ?? 'UNCODED';

/** A first KMS of the app (its own secrets), releasing to what the registry approves for the app. */
async function startKms(w: World, name: string, o: { codeHash: Hex; allowSimulated: boolean }): Promise<SimKms> {
  const secrets = generateFleetSecrets(systemRandom);
  const p = policy(o.allowSimulated);
  const identity = await bootKmsIdentity({
    platform: await createSimPlatform(),
    random: systemRandom,
    codeHash: o.codeHash,
    policy: p,
    dataKey: (await dataKeyPair(secrets)).publicJwk,
  });
  const kms = createKms({
    identity,
    app: APP,
    policy: p,
    secrets,
    clock,
    random: systemRandom,
    approvals: (app, pipelineId) => w.gov.isAppPipelineApproved(app, pipelineId),
  });
  let released = 0;
  const http = createKmsApp(kms, (e) => void (e.event === 'kms.released' && released++));
  return {
    url: `http://${name}.kms.sim`,
    codeHash: o.codeHash,
    identity,
    secrets,
    fetch: async (input, init) => http.fetch(new Request(input, init)),
    released: () => released,
  };
}

async function post(
  kms: SimKms,
  path: string,
  body: unknown,
): Promise<{ status: number; json: { code?: string; release?: string } }> {
  const res = await kms.fetch(`${kms.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { code?: string; release?: string } };
}

/** A host between an instance and the KMS: records the release exchanges, or answers them itself. */
function hostInTheMiddle(kms: SimKms, answer?: (body: { evidence: Evidence; request: string }) => Promise<unknown>) {
  const seen: Array<{ body: string; release?: string }> = [];
  const f: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    if (!req.url.endsWith('/v1/kms/release')) return kms.fetch(req);
    const body = await req.text();
    if (answer) return Response.json(await answer(JSON.parse(body)));
    const res = await kms.fetch(req.url, { method: 'POST', headers: req.headers, body });
    seen.push({ body, ...((await res.clone().json()) as { release?: string }) });
    return res;
  };
  return { fetch: f, seen };
}

/** Results of `to - from` accepted jobs appended to an instance's log (leaves salted per history), as its runner does. */
async function serveResults(store: Store, log: TransparencyLog, from: number, to: number, salt = 0): Promise<void> {
  const jobs = Array.from({ length: to - from }, (_, k) => job(from + k));
  if (from === 0) await seed(store, jobs);
  else
    for (const j of jobs) await store.acceptJob({ job: j, now: NOW, borrowerCap: 100, borrowerWindowSeconds: 86_400 });
  await log.appendResults(
    jobs.map((j, k) => ({ jobId: j.id, attestation: '{}', structHash: hex(10_000 + salt + from + k) })),
  );
}

/** What every KMS scenario shares: the world, the fleet's code, and the app's KMS (started on first use). */
type KmsContext = { w: World; codeHash: Hex; fleetKms: () => Promise<SimKms> };
type Instance = { enclave: Enclave; connection: KmsConnection };
type KmsScenario = Omit<Scenario, 'run'> & { run: (c: KmsContext) => Promise<Attempt> };

/** The context of one catalogue run; the world's pipeline is approved for the app on chain when the KMS starts. */
function kmsContext(w: World): KmsContext {
  const codeHash = w.enclave.manifest.codeHash as Hex;
  let started: Promise<SimKms> | undefined;
  const fleetKms = () =>
    (started ??= (async () => {
      if (!(await w.gov.isAppPipelineApproved(APP, w.pid))) await w.gov.approveAppPipeline(APP, w.pid);
      return startKms(w, 'fleet', { codeHash, allowSimulated: true });
    })());
  return { w, codeHash, fleetKms };
}

/** The world's pipeline with other code. */
const pipelineFor = ({ w }: KmsContext, code: Hex) => ({
  codeHash: code,
  modelHash: w.model.modelHash,
  policyHash: pipelinePolicyHash(w.pipelinePolicy),
  platform: 'sim' as const,
});

/** A fleet instance asks `kms` for its keys at boot, as `props serve --kms` does; its client trusts the KMS's code. */
async function boot(
  c: KmsContext,
  kms: SimKms,
  o: { code?: Hex; fetch?: typeof fetch; onSecrets?: () => void } = {},
): Promise<Instance> {
  const connection = await connectKms({
    urls: [kms.url],
    app: APP,
    codeHash: c.codeHash,
    policy: policy(true),
    clock,
    fetch: o.fetch ?? kms.fetch,
  });
  const enclave = await bootEnclave({
    platform: await createSimPlatform(),
    model: c.w.model,
    pipelinePolicy: c.w.pipelinePolicy,
    eip712Domain: c.w.gov.resultDomain(),
    codeHash: o.code ?? c.codeHash,
    fleet: connection.fleetBoot(() => o.onSecrets?.()),
  });
  return { enclave, connection };
}

/** A boot that must be refused: its code, and whether it left a trace (a release, or secrets delivered). */
async function refusedBoot(c: KmsContext, kms: SimKms, o: { code?: Hex; fetch?: typeof fetch } = {}): Promise<Attempt> {
  const before = kms.released();
  let delivered = false;
  try {
    await boot(c, kms, { ...o, onSecrets: () => void (delivered = true) });
    return { code: null, traceFree: false };
  } catch (e) {
    return { code: codeOf(e), traceFree: !delivered && kms.released() === before };
  }
}

async function witnessedHead(kms: SimKms, logId: Hex): Promise<WitnessedHead | undefined> {
  const res = await kms.fetch(`${kms.url}/v1/kms/heads/${logId}`);
  return res.status === 200 ? ((await res.json()) as WitnessedHead) : undefined;
}

/** Waits until the KMS witnessed `size` for `logId` (heads are reported in the background). */
async function untilWitnessed(kms: SimKms, logId: Hex, size: number): Promise<WitnessedHead> {
  for (let i = 0; i < 400; i++) {
    const h = await witnessedHead(kms, logId);
    if (h && h.treeSize >= size) return h;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`KMS did not witness size ${size}`);
}

/** The instance's service starting on `store` with the KMS witness, as `props serve --kms` starts it. */
async function startService({ w }: KmsContext, inst: Instance, store: Store): Promise<Attempt> {
  try {
    const svc = await createService({
      enclave: inst.enclave,
      store,
      adminToken: random32(),
      scorer: modelScorer(w.model),
      ingest: plainIngest(inst.enclave),
      verifyConsent: plainVerifyConsent,
      logger: () => {},
      witness: {
        head: (logId) => inst.connection.witnessedHead(logId),
        reporter: () => () => {},
      },
    });
    svc.runner.stop();
    return { code: null };
  } catch (e) {
    return { code: codeOf(e) };
  }
}

/** An instance whose log grew to `size` (each head reported to the KMS by its client) over its own store. */
async function servingInstance(c: KmsContext, kms: SimKms, size: number) {
  const inst = await boot(c, kms);
  const store = openSqliteStore(':memory:');
  let report: ((head: Parameters<ReturnType<KmsConnection['headReporter']>>[0]) => void) | undefined;
  const log = await openTransparencyLog({
    store,
    enclave: inst.enclave,
    clock,
    eagerHeads: true,
    onHead: (h) => report?.(h),
  });
  report = inst.connection.headReporter({
    evidence: inst.enclave.evidence,
    manifest: inst.enclave.manifest,
    logId: log.id,
    consistency: (oldSize, newSize) => log.consistency(oldSize, newSize).proof,
  });
  await serveResults(store, log, 0, size);
  return { inst, log, witnessed: await untilWitnessed(kms, log.id, size) };
}

/** The same instance (keys and all) run by the host on a second database with another history of `size` results. */
async function clone(inst: { enclave: Enclave }, size: number) {
  const store = openSqliteStore(':memory:');
  const log = await openTransparencyLog({ store, enclave: inst.enclave, clock });
  await serveResults(store, log, 0, size, 500);
  return { store, log };
}

async function otherCodeAsksForKeys(c: KmsContext): Promise<Attempt> {
  return refusedBoot(c, await c.fleetKms(), { code: random32() });
}

async function withdrawnPipelineAsksForKeys(c: KmsContext): Promise<Attempt> {
  const kms = await c.fleetKms();
  const code = random32();
  const pid = await c.w.gov.registerPipeline(pipelineFor(c, code));
  await c.w.gov.approveAppPipeline(APP, pid);
  await boot(c, kms, { code });
  await c.w.gov.withdrawAppPipeline(APP, pid);
  return refusedBoot(c, kms, { code });
}

async function revokedPipelineAsksForKeys(c: KmsContext): Promise<Attempt> {
  const kms = await c.fleetKms();
  const code = random32();
  const pid = await c.w.gov.registerPipeline(pipelineFor(c, code));
  await c.w.gov.approveAppPipeline(APP, pid);
  await c.w.gov.revokePipeline(pid);
  return refusedBoot(c, kms, { code });
}

async function simulatedAsksProductionKms(c: KmsContext): Promise<Attempt> {
  await c.fleetKms();
  return refusedBoot(c, await startKms(c.w, 'production', { codeHash: c.codeHash, allowSimulated: false }));
}

async function impostorKmsAnswers(c: KmsContext): Promise<Attempt> {
  return refusedBoot(c, await startKms(c.w, 'impostor', { codeHash: random32(), allowSimulated: true }));
}

async function hostAnswersWithOwnSecrets(c: KmsContext): Promise<Attempt> {
  const kms = await c.fleetKms();
  const rogue = await startKms(c.w, 'rogue', { codeHash: c.codeHash, allowSimulated: true });
  const mitm = hostInTheMiddle(kms, async (body) => {
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(body.request.split('.')[1] ?? '')));
    return {
      release: await sealRelease(
        rogue.identity.signJws,
        {
          v: 1,
          typ: 'props-kms-release',
          app: APP,
          iss: kms.identity.evidenceDigest,
          aud: claims.sub,
          nonce: claims.nonce,
          iat: claims.iat,
          secrets: secretsToWire(rogue.secrets),
        },
        body.evidence.keys.release as PublicJwk,
      ),
    };
  });
  return refusedBoot(c, kms, { fetch: mitm.fetch });
}

async function replayedReleaseRequest(c: KmsContext): Promise<Attempt> {
  const kms = await c.fleetKms();
  const mitm = hostInTheMiddle(kms);
  await boot(c, kms, { fetch: mitm.fetch });
  const before = kms.released();
  const r = await post(kms, '/v1/kms/release', mitm.seen[0]?.body ?? '{}');
  return { code: r.json.code ?? null, traceFree: kms.released() === before && r.json.release === undefined };
}

async function misaddressedReleaseRequest(c: KmsContext): Promise<Attempt> {
  const kms = await c.fleetKms();
  const other = await startKms(c.w, 'other', { codeHash: c.codeHash, allowSimulated: true });
  const mitm = hostInTheMiddle(kms);
  await boot(c, kms, { fetch: mitm.fetch });
  const r = await post(other, '/v1/kms/release', mitm.seen[0]?.body ?? '{}');
  return { code: r.json.code ?? null, traceFree: other.released() === 0 };
}

async function releaseSwappedBetweenInstances(c: KmsContext): Promise<Attempt> {
  const kms = await c.fleetKms();
  const first = hostInTheMiddle(kms);
  await boot(c, kms, { fetch: first.fetch });
  const swapped = hostInTheMiddle(kms, async () => ({ release: first.seen[0]?.release }));
  return refusedBoot(c, kms, { fetch: swapped.fetch });
}

async function cloneReportsForkedLog(c: KmsContext): Promise<Attempt> {
  const kms = await c.fleetKms();
  const { inst, log, witnessed } = await servingInstance(c, kms, 2);
  const forked = await clone(inst, 2);
  const r = await post(kms, '/v1/kms/heads', {
    evidence: inst.enclave.evidence,
    manifest: inst.enclave.manifest,
    head: await forked.log.signedHead(),
  });
  const after = await witnessedHead(kms, log.id);
  return { code: r.json.code ?? null, traceFree: after?.rootHash === witnessed.rootHash };
}

async function hostRestoresOlderDatabase(c: KmsContext): Promise<Attempt> {
  const kms = await c.fleetKms();
  const { inst, log, witnessed } = await servingInstance(c, kms, 3);
  // Yesterday's copy of the instance's database: its first result only.
  const older = openSqliteStore(':memory:');
  await serveResults(older, await openTransparencyLog({ store: older, enclave: inst.enclave, clock }), 0, 1);
  const r = await startService(c, inst, older);
  return { ...r, traceFree: (await witnessedHead(kms, log.id))?.treeSize === witnessed.treeSize };
}

async function cloneRestartsOnForkedDatabase(c: KmsContext): Promise<Attempt> {
  const kms = await c.fleetKms();
  const { inst, log, witnessed } = await servingInstance(c, kms, 2);
  const forked = await clone(inst, 2);
  const r = await startService(c, inst, forked.store);
  return { ...r, traceFree: (await witnessedHead(kms, log.id))?.rootHash === witnessed.rootHash };
}

/** The key-release catalogue, in the order it runs. */
const KMS_SCENARIOS: KmsScenario[] = [
  {
    name: 'instance running other code asks for the fleet keys',
    layer: 'kms',
    expected: 'ERR_KMS_PIPELINE_NOT_APPROVED',
    run: otherCodeAsksForKeys,
  },
  {
    name: 'pipeline whose approval for the app was withdrawn on chain asks for the fleet keys',
    layer: 'kms',
    expected: 'ERR_KMS_PIPELINE_NOT_APPROVED',
    run: withdrawnPipelineAsksForKeys,
  },
  {
    name: 'pipeline revoked in the registry asks for the fleet keys',
    layer: 'kms',
    expected: 'ERR_KMS_PIPELINE_NOT_APPROVED',
    run: revokedPipelineAsksForKeys,
  },
  {
    name: 'simulated instance asks a production KMS for the fleet keys',
    layer: 'kms',
    expected: 'ERR_EVIDENCE_SIMULATED_NOT_ALLOWED',
    run: simulatedAsksProductionKms,
  },
  {
    name: 'KMS impostor (other code) answers an instance',
    layer: 'kms',
    expected: 'ERR_KMS_EVIDENCE_REFUSED',
    run: impostorKmsAnswers,
  },
  {
    name: "host in the middle answers a release request with its own secrets (another KMS's signature)",
    layer: 'kms',
    expected: 'ERR_KMS_RELEASE_SIGNATURE',
    run: hostAnswersWithOwnSecrets,
  },
  {
    name: 'replayed release request (an instance boot request posted again)',
    layer: 'kms',
    expected: 'ERR_KMS_NONCE_REPLAYED',
    run: replayedReleaseRequest,
  },
  {
    name: 'misaddressed release request (made for one KMS, relayed to another of the app)',
    layer: 'kms',
    expected: 'ERR_KMS_MISADDRESSED',
    run: misaddressedReleaseRequest,
  },
  {
    name: 'release JWE swapped between two instances',
    layer: 'kms',
    expected: 'ERR_KMS_RELEASE_UNREADABLE',
    run: releaseSwappedBetweenInstances,
  },
  {
    name: 'cloned instance reports a forked log to the KMS witness',
    layer: 'kms',
    expected: 'ERR_STATE_FORKED',
    run: cloneReportsForkedLog,
  },
  {
    name: 'host restores an older database behind the head the KMS witnessed',
    layer: 'service',
    expected: 'ERR_STATE_ROLLED_BACK',
    run: hostRestoresOlderDatabase,
  },
  {
    name: 'cloned instance restarted on its forked database',
    layer: 'service',
    expected: 'ERR_STATE_FORKED',
    run: cloneRestartsOnForkedDatabase,
  },
];

/** The key-release scenarios against `w`, sharing one app KMS. */
export function kmsScenarios(w: World): Scenario[] {
  const c = kmsContext(w);
  return KMS_SCENARIOS.map(({ run, ...s }) => ({ ...s, run: () => run(c) }));
}
