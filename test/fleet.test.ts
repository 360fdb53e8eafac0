// The fleet: three `props serve` processes on one PostgreSQL database, jobs from several lenders sent to all three at
// once, one process killed (kill -9) mid-run and restarted. Every job is done exactly once (read back from the database
// itself), a consent's uses and a borrower's cap hold across processes racing for them, and every audit bundle verifies.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, pgDescribe } from '../testing/pg.ts';
import {
  accepted,
  awaitJobs,
  checkDatabase,
  createLenders,
  enrolBorrowers,
  expectedFrom,
  jobPlan,
  planJobs,
  sendJobs,
  startFleet,
  verifyBundles,
  type EnrolledBorrower,
  type Fleet,
} from '../sim/fleet.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'props.js');
const describePg = await pgDescribe();

/** `props …` as a user runs it; resolves with the exit code and both streams. */
function props(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env, timeout: 170_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `props sim --fleet 3` (with `extra`) on a fresh database, 6 borrowers and 2 lenders, in JSON. */
async function fleetSim(extra: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const db = await createTestDatabase();
  cleanup.push(() => db.drop());
  return props([
    'sim',
    '--fleet',
    '3',
    ...extra,
    '--database-url',
    db.url,
    '--borrowers',
    '6',
    '--lenders',
    '2',
    '--json',
  ]);
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('props sim --fleet: usage', () => {
  /** The dispatcher in-process (no child to start): exit code and what it wrote to stderr. */
  async function inProcess(args: string[]): Promise<{ code: number; stderr: string }> {
    const { main } = await import('../cli/main.ts');
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    const saved = process.env.PROPS_DATABASE_URL;
    delete process.env.PROPS_DATABASE_URL;
    try {
      return { code: await main(args), stderr };
    } finally {
      spy.mockRestore();
      if (saved !== undefined) process.env.PROPS_DATABASE_URL = saved;
    }
  }

  it('refuses a fleet size outside 2..16, a fleet without a database, and an unreachable database (exit 2)', async () => {
    for (const args of [
      ['--fleet', '1', '--database-url', 'postgres://postgres@127.0.0.1:1/x'],
      ['--fleet', '17', '--database-url', 'postgres://postgres@127.0.0.1:1/x'],
      ['--fleet', '2.5', '--database-url', 'postgres://postgres@127.0.0.1:1/x'],
      ['--fleet', '3'],
      ['--database-url', 'postgres://postgres@127.0.0.1:1/x'],
      ['--fleet', '3', '--attacks', '--database-url', 'postgres://postgres@127.0.0.1:1/x'],
    ]) {
      const r = await inProcess(['sim', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^usage: props sim/);
    }
    const down = await inProcess([
      'sim',
      '--fleet',
      '3',
      '--database-url',
      'postgres://postgres:secret-pw@127.0.0.1:1/x',
    ]);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/^props sim: ERR_STORE_UNAVAILABLE/);
    expect(down.stderr).not.toContain('secret-pw');
  }, 60_000);
});

describePg('the fleet (3 props serve processes, one PostgreSQL database)', () => {
  it('does every job exactly once across a kill -9, holds consent and borrower caps across processes, and every bundle verifies', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const lines: string[] = [];
    // 48 borrowers × 5 lenders, one use each: every borrower ends exactly at the cap (5), retries after the kill included.
    const fleet: Fleet = await startFleet({
      instances: 3,
      databaseUrl: db.url,
      borrowerCap: 5,
      accounts: 50,
      seed: 'fleet-test',
      log: (l) => lines.push(l),
    });
    cleanup.push(() => fleet.close());
    const lenders = await createLenders(fleet, 5);
    const main = await enrolBorrowers(fleet, {
      accounts: Array.from({ length: 48 }, (_, i) => i),
      lenders,
      maxUses: 1,
    });
    const [consentRacer] = (await enrolBorrowers(fleet, {
      accounts: [48],
      lenders: [lenders[0] as (typeof lenders)[number]],
      maxUses: 3,
    })) as [EnrolledBorrower];
    const [capRacer] = (await enrolBorrowers(fleet, { accounts: [49], lenders, maxUses: 3 })) as [EnrolledBorrower];

    // Races, sent to all three instances at once: 9 jobs under a consent of 3 uses; 10 jobs for a borrower capped at 5
    // (two under each lender's consent, so only the cap can refuse them).
    const consentRace = Array.from({ length: 9 }, (_, i) =>
      jobPlan(lenders[0] as (typeof lenders)[number], consentRacer, 0, i % 3),
    );
    const capRace = Array.from({ length: 10 }, (_, i) =>
      jobPlan(lenders[i % 5] as (typeof lenders)[number], capRacer, i % 5, i % 3),
    );
    const race = await sendJobs(fleet, [...consentRace, ...capRace]);
    const consentAnswers = race.answers.slice(0, 9);
    const capAnswers = race.answers.slice(9);
    expect(consentAnswers.filter(accepted)).toHaveLength(3);
    expect(consentAnswers.filter((a) => !accepted(a)).map((a) => [a.status, a.code])).toEqual(
      Array(6).fill([403, 'ERR_CONSENT_EXHAUSTED']),
    );
    expect(new Set(consentAnswers.map((a) => a.plan.via))).toEqual(new Set([0, 1, 2]));
    expect(capAnswers.filter(accepted)).toHaveLength(5);
    expect(capAnswers.filter((a) => !accepted(a)).map((a) => [a.status, a.code])).toEqual(
      Array(5).fill([429, 'ERR_BORROWER_QUERY_CAP']),
    );

    // 240 jobs from 5 lenders at once over all three instances; instance-2 is killed once 80 are answered.
    const plans = planJobs(main, lenders, 48, 3);
    expect(plans).toHaveLength(240);
    const logIds = await Promise.all([0, 1, 2].map(async (i) => (await fleet.ready(i)).logId));
    const run = await sendJobs(fleet, plans, { kill: { victim: 1, afterAnswers: 80 } });
    const restarted = await run.restarted;
    expect(restarted?.logId).toBe(logIds[1]);
    expect(run.inFlightAtKill).toBeGreaterThan(0);
    expect(run.answers.filter((a) => !accepted(a)).map((a) => a.code)).toEqual([]);
    expect(run.answers.some((a) => a.attempts > 1)).toBe(true);
    expect(new Set(run.answers.map((a) => a.jobId)).size).toBe(240);

    const all = [...race.answers, ...run.answers];
    const states = await awaitJobs(fleet, all);
    expect([...states.values()].filter((s) => s.state !== 'done')).toEqual([]);
    // Each job scored by the instance its borrower submitted to, whichever instance accepted it.
    for (const a of all.filter(accepted)) expect(states.get(a.jobId)?.logId).toBe(logIds[a.plan.scoredBy]);
    expect(run.answers.filter((a) => a.plan.via !== a.plan.scoredBy).length).toBeGreaterThan(100);

    const expected = expectedFrom(all);
    expect(expected.jobs).toBe(248);
    expect(expected.consentUses.get(consentRacer.consents[0] as string)).toBe(3);
    expect(expected.borrowerCounts.get(capRacer.submissionId)).toBe(5);
    const scope = {
      lenderIds: lenders.map((l) => l.lenderId),
      submissionIds: [...main, consentRacer, capRacer].map((b) => b.submissionId),
      logIds,
    };
    const report = await checkDatabase(db.url, expected, scope);
    expect(report.mismatches).toEqual([]);
    expect(report).toMatchObject({
      jobs: 248,
      done: 248,
      results: 248,
      distinctResultJobs: 248,
      jobsNamingTheirResult: 248,
    });
    expect(report).toMatchObject({
      logsContiguous: true,
      consentUsesExact: true,
      consentWithinMax: true,
      borrowerCountsExact: true,
    });
    expect(report.logs.map((l) => l.logId).sort()).toEqual([...logIds].sort());

    const bundles = await verifyBundles(fleet, all);
    expect(bundles.failures).toEqual([]);
    expect(bundles).toMatchObject({ bundles: 248, verified: 248 });
    expect(bundles.preKill).toBeGreaterThan(0);
    expect(bundles.preKillVerified).toBe(bundles.preKill);
  }, 180_000);

  it('props sim --fleet 3 --json: exit 0, one instance killed, every bundle verified', async () => {
    const r = await fleetSim([]);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      fleet: {
        instances: number;
        killed: number;
        scoredBy: Record<string, number>;
        bundlesVerified: number;
        bundles: number;
      };
      lost: number;
      duplicated: number;
    };
    expect(out.ok).toBe(true);
    expect(out.fleet).toMatchObject({ instances: 3, killed: 1 });
    expect(out.fleet.bundles).toBeGreaterThan(0);
    expect(out.fleet.bundlesVerified).toBe(out.fleet.bundles);
    expect(Object.keys(out.fleet.scoredBy)).toEqual(['instance-1', 'instance-2', 'instance-3']);
    expect([out.lost, out.duplicated]).toEqual([0, 0]);
  }, 180_000);

  it('props sim --fleet 3 --kms --json: fleet keys from two KMS replicas, one killed with an instance, an upgrade mid-run, every job scored by whichever instance claimed it, every bundle verified', async () => {
    const r = await fleetSim(['--kms']);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      keys: string;
      fleet: { bundlesVerified: number; bundles: number };
      checks: Array<{ step: string; ok: boolean; detail?: string }>;
      lost: number;
      duplicated: number;
    };
    expect(out).toMatchObject({ ok: true, keys: 'kms', lost: 0, duplicated: 0 });
    expect(out.fleet.bundlesVerified).toBe(out.fleet.bundles);
    const claimed = out.checks.find((c) => c.step.startsWith('submissions encrypted to the fleet key'));
    expect(claimed).toMatchObject({ ok: true });
    // Some jobs were scored by an instance other than the one the borrower encrypted to.
    expect(Number(/^(\d+) scored by/.exec(claimed?.detail ?? '')?.[1])).toBeGreaterThan(0);
    expect(r.stderr).toContain('kms-1 killed');
    // The upgrade: v2 everywhere, v1 refused once withdrawn, earlier submissions scored under the new pipeline id.
    for (const step of [
      'upgrade: pipeline v2 registered and approved',
      'the withdrawn v1 pipeline gets no keys',
      'submissions accepted before the upgrade, scored by v2',
    ])
      expect(out.checks.find((c) => c.step.startsWith(step))).toMatchObject({ ok: true });
    expect(out.checks.find((c) => c.step.startsWith('the withdrawn v1'))?.detail).toBe('ERR_KMS_PIPELINE_NOT_APPROVED');
  }, 180_000);
});
