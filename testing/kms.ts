// Test support for key release: a KMS in process (an app's first KMS, or a replica joining one) served by its Hono app
// without a port, and fleet instances booted against it — from seeded randomness and one settable clock.
import {
  appIdOf,
  pipelineId,
  type Evidence,
  type Hex,
  type Manifest,
  type SignedTreeHead,
  type WitnessedHead,
} from '../protocol/index.ts';
import { loadDefaultPolicy } from '../verifier/index.ts';
import { bootEnclave, type Enclave, type FleetBoot } from '../enclave/boot.ts';
import { createKmsApp, type KmsLogger } from '../enclave/kms/app.ts';
import { connectKms, type KmsConnection } from '../enclave/kms/client.ts';
import { bootKmsIdentity, type KmsIdentity, type KmsPolicy } from '../enclave/kms/identity.ts';
import { dataKeyPair, generateFleetSecrets, type FleetSecrets } from '../enclave/kms/secrets.ts';
import { createKms, type Kms } from '../enclave/kms/service.ts';
import type { TransparencyLog } from '../enclave/log/index.ts';
import { loadPipelinePolicy, pipelinePolicyHash } from '../enclave/pipeline-policy.ts';
import { createSimPlatform } from '../enclave/platforms/sim.ts';
import { NOW, seededRandom } from './enclave.ts';

export const TEST_APP: Hex = appIdOf('props-test');
export const TEST_CODE_HASH: Hex = `0x${'c0'.repeat(32)}`;
/** The model instances "run": only its hash enters the manifest, so no model file is read. */
export const TEST_MODEL_HASH: Hex = `0x${'ab'.repeat(32)}`;

/** The pipeline an instance of `codeHash` runs (the test model, the shipped pipeline policy, platform sim). */
export const pipelineIdFor = (codeHash: Hex): Hex =>
  pipelineId({
    codeHash,
    modelHash: TEST_MODEL_HASH,
    policyHash: pipelinePolicyHash(loadPipelinePolicy()),
    platform: 'sim',
  });

/** One clock for the KMS and its instances: challenges expire when a test moves it. */
export type TestClock = { now: () => Date; advance(seconds: number): void };
export function testClock(start: Date = NOW): TestClock {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (s) => void (t += s * 1000) };
}

/** The shipped verifier policy with simulated evidence allowed or not. */
export const kmsPolicy = (allowSimulated = true): KmsPolicy => ({ evidence: loadDefaultPolicy(), allowSimulated });

export type KmsAnswer = { status: number; json: any; text: string; type: string };

export type TestKms = {
  readonly url: string;
  readonly app: Hex;
  readonly codeHash: Hex;
  readonly clock: TestClock;
  readonly policy: KmsPolicy;
  readonly identity: KmsIdentity;
  readonly secrets: FleetSecrets;
  readonly kms: Kms;
  /** Pipelines the "registry" approves for the app: tests add and withdraw. */
  readonly approved: Set<Hex>;
  /** While true, reading the approvals fails (the chain cannot be read). */
  approvalsDown: boolean;
  /** Every event the KMS logged. */
  readonly logged: Parameters<KmsLogger>[0][];
  /** Its app's handler, and a fetch that reaches it at `url`. */
  readonly handle: (req: Request) => Promise<Response>;
  readonly fetch: typeof fetch;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<KmsAnswer>;
};

export type TestKmsOptions = {
  seed?: string;
  clock?: TestClock;
  codeHash?: Hex;
  app?: Hex;
  allowSimulated?: boolean;
  /** Approved at start (default: the pipeline of `codeHash`). */
  approved?: Hex[];
  /** A replica: gets its secrets from this KMS by attested release instead of making them. */
  join?: TestKms;
};

/** A KMS in process: the first of its app (secrets made inside it), or a replica of `join`. */
export async function startTestKms(o: TestKmsOptions = {}): Promise<TestKms> {
  const seed = o.seed ?? 'kms';
  const random = seededRandom(seed);
  const clock = o.clock ?? o.join?.clock ?? testClock();
  const codeHash = o.codeHash ?? TEST_CODE_HASH;
  const app = o.app ?? TEST_APP;
  const policy = kmsPolicy(o.allowSimulated ?? true);
  const platform = await createSimPlatform({ random, clock: clock.now });
  let secrets: FleetSecrets | undefined;
  let heads: readonly WitnessedHead[] = [];
  let identity: KmsIdentity;
  if (o.join) {
    // As `props kms --join`: check the peer as an instance would, then ask it with this KMS's own evidence.
    const peer = await connectKms({ urls: [o.join.url], app, codeHash, policy, clock: clock.now, fetch: o.join.fetch });
    identity = await bootKmsIdentity({ platform, random, codeHash, policy, dataKey: peer.dataKey });
    await peer
      .fleetBoot((s, h) => {
        secrets = s;
        heads = h;
      })
      .obtain(identity);
  } else {
    secrets = generateFleetSecrets(random);
    const { publicJwk } = await dataKeyPair(secrets);
    identity = await bootKmsIdentity({ platform, random, codeHash, policy, dataKey: publicJwk });
  }
  if (!secrets) throw new Error('the replica got no secrets');
  const approved = new Set(o.approved ?? [pipelineIdFor(codeHash)]);
  const logged: TestKms['logged'] = [];
  const kms = createKms({
    identity,
    app,
    policy,
    secrets,
    heads,
    clock: clock.now,
    random,
    approvals: async (a, pid) => {
      if (self.approvalsDown) throw new Error('registry unreachable');
      return a === app && approved.has(pid);
    },
  });
  const http = createKmsApp(kms, (e) => logged.push(e));
  const url = `http://kms-${seed}.test`;
  const handle = async (req: Request) => http.fetch(req);
  const self: TestKms = {
    url,
    app,
    codeHash,
    clock,
    policy,
    identity,
    secrets,
    kms,
    approved,
    approvalsDown: false,
    logged,
    handle,
    fetch: (input, init) => fleetFetch(self)(input, init),
    async call(method, path, body, headers = {}) {
      const init: RequestInit = {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      };
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
      const res = await handle(new Request(`${url}${path}`, init));
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text, type: res.headers.get('content-type') ?? '' };
    },
  };
  return self;
}

/** A fetch that answers each KMS's URLs from its app (an instance that knows every replica); others are unreachable. */
export const fleetFetch =
  (...kmses: TestKms[]): typeof fetch =>
  async (input, init) => {
    const req = new Request(input, init);
    const k = kmses.find((x) => req.url.startsWith(`${x.url}/`));
    if (!k) throw new TypeError(`fetch failed: ${req.url}`);
    return k.handle(req);
  };

export type TestInstanceOptions = {
  seed?: string;
  /** The code the instance runs (default: the KMS's); other code is another pipeline. */
  codeHash?: Hex;
  /** The KMS code the instance's client accepts (default: its own code, as `props serve` does). */
  kmsCodeHash?: Hex;
  /** The KMSes asked (default: the one given). */
  replicas?: TestKms[];
  /** How the instance reaches the KMSes (default: their apps); tests put a host in the middle here. */
  fetch?: typeof fetch;
  /** The instance's policy for the KMS's evidence (default: the shipped one, simulated evidence allowed). */
  policy?: KmsPolicy;
  /** Changes the boot hook (say, to bind another data key). */
  fleet?: (honest: FleetBoot) => FleetBoot;
};

export type TestInstance = {
  enclave: Enclave;
  /** What the KMS released to this boot. */
  secrets: FleetSecrets;
  connection: KmsConnection;
};

/** An instance's connection to `kms` as the instance would make it (its app and code, the sim-allowing policy). */
export function connectTestKms(
  kms: TestKms,
  o: { app?: Hex; codeHash?: Hex; fetch?: typeof fetch } = {},
): Promise<KmsConnection> {
  return connectKms({
    urls: [kms.url],
    app: o.app ?? kms.app,
    codeHash: o.codeHash ?? kms.codeHash,
    policy: kmsPolicy(),
    clock: kms.clock.now,
    fetch: o.fetch ?? kms.fetch,
  });
}
/** Boots a fleet instance whose keys come from `kms`, as `props serve --kms` does. */
export async function bootTestInstance(kms: TestKms, o: TestInstanceOptions = {}): Promise<TestInstance> {
  const random = seededRandom(o.seed ?? 'instance');
  const codeHash = o.codeHash ?? kms.codeHash;
  const replicas = o.replicas ?? [kms];
  const connection = await connectKms({
    urls: replicas.map((r) => r.url),
    app: kms.app,
    codeHash: o.kmsCodeHash ?? codeHash,
    policy: o.policy ?? kmsPolicy(true),
    clock: kms.clock.now,
    fetch: o.fetch ?? fleetFetch(...replicas),
  });
  let secrets: FleetSecrets | undefined;
  const honest = connection.fleetBoot((s) => void (secrets = s));
  const enclave = await bootEnclave({
    platform: await createSimPlatform({ random, clock: kms.clock.now }),
    random,
    clock: kms.clock.now,
    model: { modelHash: TEST_MODEL_HASH, executionProvider: 'cpu' },
    expectedModelHash: TEST_MODEL_HASH,
    codeHash,
    fleet: o.fleet ? o.fleet(honest) : honest,
  });
  if (!secrets) throw new Error('the instance booted without released secrets');
  return { enclave, secrets, connection };
}

/** The `witness` option of createService for an instance, as `props serve --kms` wires it; reporter errors collected. */
export function witnessFor(
  inst: TestInstance,
  errors: string[] = [],
): {
  head(logId: Hex): Promise<{ treeSize: number; root: Hex } | undefined>;
  reporter(log: TransparencyLog): (head: SignedTreeHead) => void;
} {
  return {
    head: (logId) => inst.connection.witnessedHead(logId),
    reporter: (log) =>
      inst.connection.headReporter({
        evidence: inst.enclave.evidence,
        manifest: inst.enclave.manifest,
        logId: log.id,
        consistency: (oldSize, newSize) => log.consistency(oldSize, newSize).proof,
        onError: (code) => errors.push(code),
      }),
  };
}

/** Waits (real time, briefly) until `kms` witnessed `size` for `logId`: head reports are sent in the background. */
export async function witnessed(kms: TestKms, logId: Hex, size: number): Promise<WitnessedHead> {
  for (let i = 0; i < 200; i++) {
    const r = await kms.call('GET', `/v1/kms/heads/${logId}`);
    if (r.status === 200 && r.json.treeSize >= size) return r.json as WitnessedHead;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the KMS did not witness size ${size} of ${logId}`);
}

/** The body of POST /v1/kms/heads for an instance's head. */
export const headReport = (
  e: { evidence: Evidence; manifest: Manifest },
  head: SignedTreeHead,
  consistency?: Hex[],
): Record<string, unknown> => ({
  evidence: e.evidence,
  manifest: e.manifest,
  head,
  ...(consistency ? { consistency } : {}),
});
