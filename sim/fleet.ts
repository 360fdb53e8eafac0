// `props sim --fleet N`: the scoring service as a fleet — N `props serve` processes sharing one PostgreSQL database,
// each with its own keys and transparency log. Borrowers submit to one instance each, lenders send jobs to all of them
// at once, one instance is killed (kill -9) while requests are in flight and restarted with its seal; then every
// invariant is read back through the API and from the database itself, and every result's audit bundle is verified.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { fromHex, leafHash, MerkleTree, toHex, type Hex } from '../protocol/index.ts';
import {
  checkEnclave,
  encryptSubmission,
  fetchSignedStatement,
  generateOwnerKey,
  grantConsent,
  type CheckedEnclave,
} from '../oracle/index.ts';
import { loadDefaultPolicy, verifyBundle, verifyEvidence, type Policy } from '../verifier/index.ts';
import { generateBorrowers } from './bank/generator.ts';
import { startFleetGovernance, type FleetGovernance } from './fleet-chain.ts';
import { portalProvenancePolicy, startBankPortal, type BankPortal } from './bank/portal.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'props.js');
/** Requests sent at once: every job of a small run, a bounded window of a large one. */
const MAX_IN_FLIGHT = 256;

export type FleetOptions = {
  instances: number;
  databaseUrl: string;
  borrowers: number;
  lenders: number;
  /** Jobs each lender sends, spread over the borrowers' consents to it (default 4 per borrower). */
  jobsPerLender?: number;
  /** `props serve --borrower-cap` (default: exactly the most jobs any borrower gets, so a leak would be refused). */
  borrowerCap?: number;
  seed: string;
  /**
   * Fleet keys from two `props kms` replicas instead of a fleet seed file: owners encrypt to the fleet data key, any
   * instance scores any submission, and the first KMS is killed (kill -9) together with the instance.
   */
  kms?: boolean;
  /** Progress lines; the CLI prints them, tests collect them. */
  log: (line: string) => void;
};

export type FleetCheck = { step: string; ok: boolean; detail?: string };

export type FleetSummary = {
  ok: boolean;
  instances: number;
  /** Where the instances' keys came from: two KMS replicas (one killed mid-run), or a fleet seed file. */
  keys: 'kms' | 'fleet-seed';
  killed: 1;
  killedInstance: string;
  inFlightAtKill: number;
  scoredBy: Record<string, number>;
  jobs: number;
  /** Jobs accepted by one instance and scored by another. */
  crossInstance: number;
  lost: number;
  duplicated: number;
  bundles: number;
  bundlesVerified: number;
  preKillBundles: number;
  preKillBundlesVerified: number;
  consentUsesExact: boolean;
  borrowerCountsExact: boolean;
  checks: FleetCheck[];
  seconds: number;
};

// ---------------------------------------------------------------- processes

/** Every child started here; killed if this process exits while they run (a test or the CLI failing half-way). */
const live = new Set<ChildProcess>();
let exitHookSet = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookSet) {
    exitHookSet = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));

export type Instance = {
  index: number;
  name: string;
  url: string;
  logId: string;
  pipelineId: string;
  child: ChildProcess;
};
type InstanceConfig = {
  databaseUrl: string;
  dir: string;
  policyFile: string;
  borrowerCap: number;
  adminToken: string;
  /** The KMS replicas' URLs (fleet keys), or none (a fleet seed file). */
  kms: string[];
};

/** What one instance runs: its pipeline policy (the shipped one by default) and its seal file's name. */
export type Version = { pipelinePolicy?: string; seal: string; label: string };

export const instanceName = (index: number) => `instance-${index + 1}`;
/** The index an instance that must not start is given (its log is never written). */
const fleetRefusedIndex = 99;

/** Starts `props <args>` and reads its start line (a JSON object on stdout). */
async function spawnProps(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; start: Record<string, unknown> }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name}: no start line within 120 s`)), 120_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before serving: ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
  });
  return { child, start: JSON.parse(line) as Record<string, unknown> };
}

/** Starts `props serve` for instance `index` (its seal file decides its keys and log) and reads its start line. */
async function spawnInstance(
  index: number,
  c: InstanceConfig,
  v: Version = { seal: instanceName(index), label: instanceName(index) },
): Promise<Instance> {
  const name = v.label;
  const args = ['serve', '--port', '0', '--database-url', c.databaseUrl, '--seal', join(c.dir, `${v.seal}.seal`)];
  if (v.pipelinePolicy) args.push('--pipeline-policy', v.pipelinePolicy);
  if (c.kms.length > 0) for (const url of c.kms) args.push('--kms', url);
  else args.push('--fleet-seal', join(c.dir, 'fleet.seal'));
  args.push(
    '--quiet',
    '--rate',
    '1000000',
    '--borrower-cap',
    String(c.borrowerCap),
    '--provenance-policy',
    c.policyFile,
  );
  const { child, start } = await spawnProps(name, args, { PROPS_ADMIN_TOKEN: c.adminToken });
  if (start.store !== 'postgres') throw new Error(`${name} is not serving from PostgreSQL`);
  if (start.keys !== (c.kms.length > 0 ? 'kms' : 'sealed-seed')) throw new Error(`${name}: unexpected key source`);
  return {
    index,
    name,
    url: start.url as string,
    logId: start.logId as string,
    pipelineId: start.pipelineId as string,
    child,
  };
}

export type KmsReplica = { name: string; url: string; child: ChildProcess };

/**
 * Two KMS replicas: the first makes the app's secrets, the second joins it by attested release. Both release to the
 * pipelines the local registry approves for the app, and accept simulated evidence.
 */
async function startKmsReplicas(gov: FleetGovernance): Promise<KmsReplica[]> {
  const common = ['--port', '0', '--chain-rpc', gov.rpcUrl, '--registry', gov.registry, '--allow-simulated', '--quiet'];
  const first = await spawnProps('kms-1', ['kms', ...common], {});
  const url = first.start.url as string;
  const second = await spawnProps('kms-2', ['kms', ...common, '--join', url], {});
  return [
    { name: 'kms-1', url, child: first.child },
    { name: 'kms-2', url: second.start.url as string, child: second.child },
  ];
}

/** Stops a child: SIGTERM (it closes its store), SIGKILL if it has not exited after a grace period. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited(child);
  clearTimeout(timer);
}

// ---------------------------------------------------------------- the bank

export type BankAccount = { index: number; accountId: string; token: string };
export type FleetBank = { portal: BankPortal; accounts: BankAccount[]; provenancePolicy: unknown };

/** The bank portal (HTTPS, test CA) signing the generated borrowers' statements, and a policy trusting its key. */
async function startBank(seed: string, count: number): Promise<FleetBank> {
  const borrowers = generateBorrowers(`${seed}/fleet`, count);
  const accounts = borrowers.map((b, index) => ({
    index,
    accountId: b.statement.accountId,
    token: `tok_${randomBytes(12).toString('hex')}`,
  }));
  const byId = new Map(borrowers.map((b) => [b.statement.accountId, b.statement]));
  const portal = await startBankPortal({ statementFor: (id) => byId.get(id), accounts });
  const provenancePolicy = portalProvenancePolicy(portal, { id: 'props-sim-fleet-provenance@1', attestedFetch: false });
  return { portal, accounts, provenancePolicy };
}

// ---------------------------------------------------------------- the fleet

export type Fleet = {
  size: number;
  /** The run's working folder (seal files, policies), removed at close. */
  dir: string;
  adminToken: string;
  bank: FleetBank;
  /** Instance `i` as it is now, or once its restart has completed. */
  ready(i: number): Promise<Instance>;
  /** kill -9 of instance `i`, then a restart with the same seal; `ready(i)` waits for it from this call on. */
  killAndRestart(i: number): Promise<Instance>;
  /** The KMS replicas (fleet keys), or none. */
  kms: KmsReplica[];
  /** kill -9 of KMS replica `i` (not restarted: the other holds the secrets). */
  killKms(i: number): Promise<void>;
  /** The chain the KMS replicas read approvals from (fleet keys only). */
  governance: FleetGovernance | undefined;
  /** Instance `i` replaced by one running `version`: the new one starts first, then the old one is stopped (drained). */
  upgrade(i: number, version: Version): Promise<Instance>;
  /** Starts an instance of `version` that must fail to start: its exit code and last stderr line. */
  startRefused(version: Version): Promise<{ code: number | null; lastLine: string }>;
  close(): Promise<void>;
};

export type StartFleetOptions = {
  instances: number;
  databaseUrl: string;
  borrowerCap: number;
  accounts: number;
  seed: string;
  kms?: boolean;
  log: (line: string) => void;
};

/** The bank and N instances, started together on one database (they migrate it once, under an advisory lock). */
export async function startFleet(o: StartFleetOptions): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), 'props-fleet-'));
  const bank = await startBank(o.seed, o.accounts);
  const governance = o.kms ? await startFleetGovernance('props-credit') : undefined;
  if (governance) {
    const pid = await governance.approve();
    o.log(`✓ local chain: the shipped pipeline ${pid.slice(0, 12)}… registered and approved for app props-credit`);
  }
  const kms = governance ? await startKmsReplicas(governance) : [];
  for (const k of kms) o.log(`✓ ${k.name} (key-release service) at ${k.url}`);
  const policyFile = join(dir, 'provenance-policy.json');
  writeFileSync(policyFile, JSON.stringify(bank.provenancePolicy));
  const config: InstanceConfig = {
    databaseUrl: o.databaseUrl,
    dir,
    policyFile,
    borrowerCap: o.borrowerCap,
    adminToken: randomBytes(24).toString('base64url'),
    kms: kms.map((k) => k.url),
  };
  const states: Promise<Instance>[] = Array.from({ length: o.instances }, (_, i) => spawnInstance(i, config));
  const close = async () => {
    const settled = await Promise.allSettled(states);
    await Promise.all(settled.flatMap((s) => (s.status === 'fulfilled' ? [stopChild(s.value.child)] : [])));
    await Promise.all(kms.map((k) => stopChild(k.child)));
    await governance?.close();
    await bank.portal.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const inst of await Promise.all(states))
      o.log(`✓ ${inst.name} serving at ${inst.url}, log ${inst.logId.slice(0, 14)}…`);
  } catch (e) {
    await close();
    throw e;
  }
  return {
    size: o.instances,
    dir,
    adminToken: config.adminToken,
    bank,
    ready: (i) => states[i] as Promise<Instance>,
    killAndRestart(i) {
      const previous = states[i] as Promise<Instance>;
      const next = (async () => {
        const dead = await previous;
        dead.child.kill('SIGKILL');
        await exited(dead.child);
        return spawnInstance(i, config);
      })();
      states[i] = next;
      return next;
    },
    kms,
    async killKms(i) {
      const k = kms[i] as KmsReplica;
      k.child.kill('SIGKILL');
      await exited(k.child);
    },
    governance,
    upgrade(i, version) {
      const previous = states[i] as Promise<Instance>;
      const next = (async () => {
        const fresh = await spawnInstance(i, config, version);
        await stopChild((await previous).child);
        return fresh;
      })();
      states[i] = next;
      return next;
    },
    async startRefused(version) {
      try {
        const inst = await spawnInstance(fleetRefusedIndex, config, version);
        await stopChild(inst.child);
        return { code: 0, lastLine: 'started' };
      } catch (e) {
        return { code: 2, lastLine: e instanceof Error ? e.message : String(e) };
      }
    },
    close,
  };
}

// ---------------------------------------------------------------- lenders and borrowers

export type Lender = { index: number; lenderId: string; apiKey: string };
export type EnrolledBorrower = { account: number; instance: number; submissionId: string; consents: string[] };

async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of the results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Lenders, each created through a different instance (the admin token is the fleet's). */
export async function createLenders(fleet: Fleet, count: number): Promise<Lender[]> {
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    8,
    async (index) => {
      const inst = await fleet.ready(index % fleet.size);
      const r = await postJson(
        `${inst.url}/v1/admin/lenders`,
        { name: `fleet-lender-${index + 1}` },
        { authorization: `Bearer ${fleet.adminToken}` },
      );
      if (r.status !== 201 || typeof r.json.lenderId !== 'string' || typeof r.json.apiKey !== 'string')
        throw new Error(`lender refused: ${String(r.json.code ?? r.status)}`);
      return { index, lenderId: r.json.lenderId, apiKey: r.json.apiKey };
    },
  );
}

/** The data owners' policy: the default, with simulated evidence allowed (this is a simulation). */
export function ownerPolicy(): Policy {
  const policy = loadDefaultPolicy();
  policy.evidence.allowSimulated = true;
  return policy;
}

/** What a data owner does before sending anything: check the instance's evidence and manifest. */
async function checkInstance(inst: Instance): Promise<CheckedEnclave> {
  const evidence = await (await fetch(`${inst.url}/v1/attestation/evidence`)).json();
  const manifest = await (await fetch(`${inst.url}/v1/attestation/manifest`)).json();
  return checkEnclave({
    evidence,
    manifest,
    policy: ownerPolicy(),
    now: new Date(),
    verifyEvidence: (e, opts) => verifyEvidence(e, opts),
  });
}

export type EnrolOptions = { accounts: readonly number[]; lenders: readonly Lender[]; maxUses: number };

/**
 * Borrowers the oracle's way: each fetches its bank-signed statement, encrypts it to the instance it checked (spread
 * round-robin by account) and submits it there, then grants each lender a consent through another instance.
 */
export async function enrolBorrowers(fleet: Fleet, o: EnrolOptions): Promise<EnrolledBorrower[]> {
  const checked = await Promise.all(
    Array.from({ length: fleet.size }, async (_, i) => checkInstance(await fleet.ready(i))),
  );
  const now = () => new Date();
  const { portal } = fleet.bank;
  return mapLimit(o.accounts, 8, async (account) => {
    const acct = fleet.bank.accounts[account];
    if (!acct) throw new Error(`no bank account ${account}`);
    const instance = account % fleet.size;
    const inst = await fleet.ready(instance);
    const { proof } = await fetchSignedStatement({
      url: portal.statementUrl(acct.accountId),
      token: acct.token,
      caPems: [portal.caPem],
      route: portal.route,
    });
    const owner = (await generateOwnerKey()).key;
    const { jwe } = await encryptSubmission(
      { proofs: [proof], owner: owner.publicJwk },
      checked[instance] as CheckedEnclave,
      { now },
    );
    const sub = await postJson(`${inst.url}/v1/submissions`, { jwe });
    if (sub.status !== 201)
      throw new Error(`submission refused by ${inst.name}: ${String(sub.json.code ?? sub.status)}`);
    const consents: string[] = [];
    for (const lender of o.lenders) {
      const expiry = new Date(Date.now() + 86_400_000);
      const c = await grantConsent(
        {
          lender: lender.lenderId,
          purpose: 'credit-scoring',
          expiry,
          maxUses: o.maxUses,
          inputCommitment: sub.json.inputCommitment as Hex,
        },
        owner,
        { now },
      );
      const via = await fleet.ready((instance + 1 + lender.index) % fleet.size);
      const r = await postJson(`${via.url}/v1/consents`, { consent: c.jws });
      if (r.status !== 201 || typeof r.json.consentId !== 'string')
        throw new Error(`consent refused by ${via.name}: ${String(r.json.code ?? r.status)}`);
      consents.push(r.json.consentId);
    }
    return { account, instance, submissionId: sub.json.submissionId as string, consents };
  });
}

// ---------------------------------------------------------------- jobs

export type JobPlan = {
  lender: Lender;
  consentId: string;
  submissionId: string;
  scoredBy: number;
  via: number;
  key: string;
  nonce: Hex;
};
export type JobAnswer = {
  plan: JobPlan;
  status: number;
  jobId?: string;
  state?: string;
  code?: string;
  attempts: number;
  doneBeforeKill: boolean;
};

/** Job j of each lender uses borrower j mod B's consent; the jobs go to the instances in turn. */
export function planJobs(
  borrowers: readonly EnrolledBorrower[],
  lenders: readonly Lender[],
  jobsPerLender: number,
  instances: number,
): JobPlan[] {
  const plans: JobPlan[] = [];
  for (let j = 0; j < jobsPerLender; j++) {
    const b = borrowers[j % borrowers.length] as EnrolledBorrower;
    for (const lender of lenders) plans.push(jobPlan(lender, b, lender.index, plans.length % instances));
  }
  return plans;
}

/** One job under borrower `b`'s consent to the `consent`-th lender, sent to instance `via`, with fresh key and nonce. */
export function jobPlan(lender: Lender, b: EnrolledBorrower, consent: number, via: number): JobPlan {
  const consentId = b.consents[consent];
  if (consentId === undefined) throw new Error(`borrower ${b.account} granted no consent ${consent}`);
  return {
    lender,
    consentId,
    submissionId: b.submissionId,
    scoredBy: b.instance,
    via,
    key: randomUUID(),
    nonce: `0x${randomBytes(32).toString('hex')}`,
  };
}

/** `kms`: KMS replica to kill (kill -9) just before the victim, so that the victim's restart must ask the other. */
export type SendJobsOptions = { kill?: { victim: number; afterAnswers: number; kms?: number } };
export type SendJobsResult = {
  answers: JobAnswer[];
  killedAt?: number;
  inFlightAtKill: number;
  restarted?: Promise<Instance>;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends every planned job at once (up to MAX_IN_FLIGHT). With `kill`, once `afterAnswers` are answered the victim is
 * killed (kill -9) and restarted; a client whose connection was lost does not know whether its job was accepted, and
 * sends it again under the same idempotency key once the instance is back, as the API asks.
 */
export async function sendJobs(
  fleet: Fleet,
  plans: readonly JobPlan[],
  o: SendJobsOptions = {},
): Promise<SendJobsResult> {
  const inFlight = new Array<number>(fleet.size).fill(0);
  const result: SendJobsResult = { answers: [], inFlightAtKill: 0 };
  let answered = 0;
  const onAnswer = (a: JobAnswer) => {
    answered++;
    if (o.kill && result.restarted === undefined && answered >= o.kill.afterAnswers) {
      result.inFlightAtKill = inFlight[o.kill.victim] as number;
      result.killedAt = Date.now();
      const { victim, kms } = o.kill;
      result.restarted =
        kms === undefined ? fleet.killAndRestart(victim) : fleet.killKms(kms).then(() => fleet.killAndRestart(victim));
    }
    return a;
  };
  const sendOne = async (plan: JobPlan): Promise<JobAnswer> => {
    const body = { consentId: plan.consentId, nonce: plan.nonce };
    const headers = { authorization: `Bearer ${plan.lender.apiKey}`, 'idempotency-key': plan.key };
    for (let attempt = 1; attempt <= 10; attempt++) {
      const inst = await fleet.ready(plan.via);
      (inFlight[plan.via] as number)++;
      try {
        const r = await postJson(`${inst.url}/v1/jobs`, body, headers);
        // The database briefly unreachable: the outcome is unknown, so the same key again.
        if (r.status === 503 && r.json.code === 'ERR_STORE_UNAVAILABLE') {
          await sleep(100 * attempt);
          continue;
        }
        const doneBeforeKill = result.restarted === undefined && r.json.state === 'done';
        const a: JobAnswer = { plan, status: r.status, attempts: attempt, doneBeforeKill };
        if (typeof r.json.jobId === 'string') a.jobId = r.json.jobId;
        if (typeof r.json.state === 'string') a.state = r.json.state;
        if (typeof r.json.code === 'string') a.code = r.json.code;
        return onAnswer(a);
      } catch {
        // Connection lost (the instance was killed): unknown outcome; retry once `ready` has the instance back.
        await sleep(50 * attempt);
      } finally {
        (inFlight[plan.via] as number)--;
      }
    }
    return onAnswer({ plan, status: 0, code: 'NO_ANSWER', attempts: 10, doneBeforeKill: false });
  };
  result.answers = await mapLimit(plans, MAX_IN_FLIGHT, sendOne);
  return result;
}

export const accepted = (a: JobAnswer): a is JobAnswer & { jobId: string } =>
  a.jobId !== undefined && [200, 201, 202].includes(a.status);

export type JobState = { jobId: string; state: string; logId?: string; logIndex?: number };

/** Each accepted job read back with GET /v1/jobs/{id} (from the instance it was sent to) until it is done or failed. */
export async function awaitJobs(
  fleet: Fleet,
  answers: readonly JobAnswer[],
  timeoutMs = 120_000,
): Promise<Map<string, JobState>> {
  const deadline = Date.now() + timeoutMs;
  const states = new Map<string, JobState>();
  await mapLimit(answers.filter(accepted), 16, async (a) => {
    for (;;) {
      const inst = await fleet.ready(a.plan.via);
      const res = await fetch(`${inst.url}/v1/jobs/${a.jobId}`, {
        headers: { authorization: `Bearer ${a.plan.lender.apiKey}` },
      }).catch(() => undefined);
      const j = res?.ok ? ((await res.json()) as JobState) : undefined;
      if (j && (j.state === 'done' || j.state === 'failed')) return void states.set(a.jobId, j);
      if (Date.now() > deadline) return void states.set(a.jobId, j ?? { jobId: a.jobId, state: 'unknown' });
      await sleep(200);
    }
  });
  return states;
}

// ---------------------------------------------------------------- what the database holds

export type Expected = { jobs: number; consentUses: Map<string, number>; borrowerCounts: Map<string, number> };

/** What the database must hold after these answers: one job per accepted request, its consent use and borrower count. */
export function expectedFrom(answers: readonly JobAnswer[]): Expected {
  const consentUses = new Map<string, number>();
  const borrowerCounts = new Map<string, number>();
  const ids = new Set<string>();
  for (const a of answers.filter(accepted)) {
    if (ids.has(a.jobId)) continue;
    ids.add(a.jobId);
    consentUses.set(a.plan.consentId, (consentUses.get(a.plan.consentId) ?? 0) + 1);
    borrowerCounts.set(a.plan.submissionId, (borrowerCounts.get(a.plan.submissionId) ?? 0) + 1);
  }
  return { jobs: ids.size, consentUses, borrowerCounts };
}

export type DatabaseReport = {
  jobs: number;
  done: number;
  results: number;
  distinctResultJobs: number;
  /** Done jobs whose (log, index) names their own result row. */
  jobsNamingTheirResult: number;
  logs: { logId: string; count: number; min: number; max: number }[];
  logsContiguous: boolean;
  /** Signed heads stored for this run's logs, and whether each one's root is the root of its log's leaves at its size. */
  heads: number;
  headsConsistent: boolean;
  consentUsesExact: boolean;
  consentWithinMax: boolean;
  borrowerCountsExact: boolean;
  mismatches: string[];
};

/** This run's rows in a database that may hold others': its lenders' jobs, its borrowers' submissions, its logs. */
export type DatabaseScope = {
  lenderIds: readonly string[];
  submissionIds: readonly string[];
  logIds: readonly string[];
};

/** Reads the shared database directly (the `postgres` driver), not through any instance. */
export async function checkDatabase(
  databaseUrl: string,
  expected: Expected,
  scope: DatabaseScope,
): Promise<DatabaseReport> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  const lenders = sql([...scope.lenderIds]);
  try {
    const [jobs] = await sql<{ n: number; done: number }[]>`
      SELECT count(*)::int n, (count(*) FILTER (WHERE state = 'done'))::int done FROM jobs WHERE lender_id IN ${lenders}`;
    const [res] = await sql<{ n: number; distinct: number }[]>`
      SELECT count(*)::int n, count(DISTINCT r.job_id)::int distinct FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.lender_id IN ${lenders}`;
    const [named] = await sql<{ n: number }[]>`
      SELECT count(*)::int n FROM jobs j JOIN results r ON r.job_id = j.id AND r.log_id = j.log_id AND r.log_index = j.log_index WHERE j.lender_id IN ${lenders}`;
    // Whole logs: each instance's keys (from its seal file) are this run's, so its log holds this run's results only.
    const logs = await sql<{ logId: string; count: number; min: number; max: number }[]>`
      SELECT log_id "logId", count(*)::int count, min(log_index)::int min, max(log_index)::int max FROM results
      WHERE log_id IN ${sql([...scope.logIds])} GROUP BY log_id`;
    const consents = await sql<
      { id: string; uses: number; maxUses: number }[]
    >`SELECT id, uses, max_uses "maxUses" FROM consents WHERE lender_id IN ${lenders}`;
    const borrowers = await sql<{ id: string; count: number }[]>`
      SELECT s.id, coalesce(b.count, 0)::int count FROM submissions s LEFT JOIN borrower_queries b ON b.nullifier = s.nullifier
      WHERE s.id IN ${sql([...scope.submissionIds])}`;
    const heads = await headsAgainstLeaves(sql, [...scope.logIds]);
    const mismatches: string[] = [];
    for (const c of consents)
      if (c.uses !== (expected.consentUses.get(c.id) ?? 0))
        mismatches.push(
          `consent ${c.id.slice(0, 10)}… uses ${c.uses}, expected ${expected.consentUses.get(c.id) ?? 0}`,
        );
    for (const b of borrowers)
      if (b.count !== (expected.borrowerCounts.get(b.id) ?? 0))
        mismatches.push(
          `borrower ${b.id.slice(0, 10)}… count ${b.count}, expected ${expected.borrowerCounts.get(b.id) ?? 0}`,
        );
    return {
      jobs: jobs?.n ?? 0,
      done: jobs?.done ?? 0,
      results: res?.n ?? 0,
      distinctResultJobs: res?.distinct ?? 0,
      jobsNamingTheirResult: named?.n ?? 0,
      logs: [...logs],
      logsContiguous: logs.every((l) => l.min === 0 && l.max === l.count - 1),
      heads: heads.total,
      headsConsistent: heads.inconsistent === 0,
      consentUsesExact: consents.every((c) => c.uses === (expected.consentUses.get(c.id) ?? 0)),
      consentWithinMax: consents.every((c) => c.uses <= c.maxUses),
      borrowerCountsExact: borrowers.every((b) => b.count === (expected.borrowerCounts.get(b.id) ?? 0)),
      mismatches,
    };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Every signed head each log's instance stored — before and after the kill — must be a prefix of the log as it stands:
 * its root is the root of the log's first treeSize leaves (an instance that lost or rewrote an entry breaks this).
 */
async function headsAgainstLeaves(
  sql: postgres.Sql,
  logIds: string[],
): Promise<{ total: number; inconsistent: number }> {
  const heads = await sql<{ logId: string; treeSize: number; rootHash: string }[]>`
    SELECT log_id "logId", tree_size::int "treeSize", root_hash "rootHash" FROM tree_heads WHERE log_id IN ${sql(logIds)}`;
  let inconsistent = 0;
  for (const id of logIds) {
    const tree = new MerkleTree();
    for (const r of await sql<
      { h: string }[]
    >`SELECT struct_hash h FROM results WHERE log_id = ${id} ORDER BY log_index`)
      tree.append(leafHash(fromHex(r.h, 32)));
    for (const h of heads.filter((x) => x.logId === id))
      if (h.treeSize > tree.size || toHex(tree.root(h.treeSize)) !== h.rootHash) inconsistent++;
  }
  return { total: heads.length, inconsistent };
}

// ---------------------------------------------------------------- audit bundles

export type BundleReport = {
  bundles: number;
  verified: number;
  preKill: number;
  preKillVerified: number;
  failures: string[];
};

/** One bundle, from a random instance; ERR_LOG_HEAD_PENDING (another instance's head not yet signed) is retried briefly. */
async function fetchBundle(fleet: Fleet, a: JobAnswer & { jobId: string }): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    const inst = await fleet.ready(Math.floor(Math.random() * fleet.size));
    const res = await fetch(`${inst.url}/v1/jobs/${a.jobId}/bundle`, {
      headers: { authorization: `Bearer ${a.plan.lender.apiKey}` },
    });
    const body = (await res.json()) as { code?: string };
    if (res.ok) return body;
    if (body.code !== 'ERR_LOG_HEAD_PENDING' || attempt >= 40)
      throw new Error(`bundle of ${a.jobId} from ${inst.name}: ${body.code ?? res.status}`);
    await sleep(100);
  }
}

/** Every accepted job's audit bundle verified offline (verifyBundle); those scored before the kill counted apart. */
export async function verifyBundles(fleet: Fleet, answers: readonly JobAnswer[]): Promise<BundleReport> {
  const policy = ownerPolicy();
  const report: BundleReport = { bundles: 0, verified: 0, preKill: 0, preKillVerified: 0, failures: [] };
  await mapLimit(answers.filter(accepted), 8, async (a) => {
    report.bundles++;
    if (a.doneBeforeKill) report.preKill++;
    try {
      const r = await verifyBundle(await fetchBundle(fleet, a), { policy, now: new Date() });
      if (!r.ok)
        throw new Error(
          `${a.jobId}: ${r.checks
            .filter((c) => !c.ok)
            .map((c) => c.code ?? c.id)
            .join(', ')}`,
        );
      report.verified++;
      if (a.doneBeforeKill) report.preKillVerified++;
    } catch (e) {
      report.failures.push(e instanceof Error ? e.message : String(e));
    }
  });
  return report;
}
