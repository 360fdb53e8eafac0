// The job runner's batching: a lone job on an idle runner is scored on the next turn; under load (a batch ended
// moments ago) a batch that starts small waits a millisecond for more, and SMALL_BATCH or more queued do not wait.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PropsError, type Statement } from '../../protocol/index.ts';
import type { JobRow } from '../store/index.ts';
import type { ServiceDeps } from './deps.ts';
import { createJobRunner } from './jobs.ts';

const hex = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const row = (i: number): JobRow => ({
  id: `job-${i}`,
  lenderId: 'l',
  idempotencyKey: `k-${i}`,
  requestHash: hex(1),
  consentId: hex(2),
  submissionId: 'sub',
  requestId: hex(100 + i),
  nonce: hex(200 + i),
  escrowJobId: null,
  threshold: 600,
  state: 'accepted',
  errorCode: null,
  createdAt: 0,
  updatedAt: 0,
  decryptionKey: 'k',
  claimedBy: null,
  leaseUntil: null,
});

function runner(gate?: () => Promise<void>) {
  const batches: number[] = [];
  const deps = {
    store: {
      submissionMeta: async () => ({ inputCommitment: hex(3), nullifier: hex(4), live: true }),
      consentMeta: async () => ({ ref: hex(6) }),
      failJob: async () => {},
    },
    scorer: {
      score: async (s: unknown[]) => {
        await gate?.();
        return s.map(() => ({ score: 700, decision: 'approve', threshold: 600, reasonCodes: [] }));
      },
    },
    enclave: { signResultWithBody: async () => ({ attestation: { version: 1, jws: 'a.b.c' }, structHash: hex(5) }) },
    log: {
      appendResults: async (done: Array<{ jobId: string }>) => {
        batches.push(done.length);
        return done.map((d, i) => ({ jobId: d.jobId, logIndex: i }));
      },
    },
    logger: () => {},
    clock: () => new Date(0),
    resultSigning: 'each',
  } as unknown as ServiceDeps;
  const r = createJobRunner(deps, new Map([['sub', {} as Statement]]));
  const enqueue = (...ids: number[]) => ids.forEach((i) => r.enqueue(`job-${i}`, row(i)));
  return { r, batches, enqueue };
}

// Real event-loop turns (setImmediate is not faked), so what runs without a timer gets to run.
const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('job runner batching', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('an idle runner scores a lone job on the next turn; right after a batch, a small one waits 1 ms and gathers', async () => {
    const { r, batches, enqueue } = runner();
    enqueue(1);
    await turns();
    expect(batches).toEqual([1]);
    // A batch has just ended (the faked clock has not moved): the next small batch waits for its millisecond.
    enqueue(2);
    await turns();
    expect(batches).toEqual([1]);
    enqueue(3, 4);
    await turns();
    expect(batches).toEqual([1]);
    vi.advanceTimersByTime(1);
    await turns();
    await r.idle();
    expect(batches).toEqual([1, 3]);
  });

  it('16 or more queued while a batch ran start at once; once the load has passed, a lone job does not wait', async () => {
    let open: () => void = () => {};
    let gated = true;
    const { r, batches, enqueue } = runner(() =>
      gated ? new Promise<void>((resolve) => (open = resolve)) : Promise.resolve(),
    );
    enqueue(1);
    await turns();
    // Job 1's batch is scoring; 16 more arrive meanwhile and are taken as one batch when it ends, with no wait.
    enqueue(...Array.from({ length: 16 }, (_, i) => 10 + i));
    gated = false;
    open();
    await turns();
    await r.idle();
    expect(batches).toEqual([1, 16]);
    vi.advanceTimersByTime(10); // past the 5 ms load window
    enqueue(2);
    await turns();
    expect(batches).toEqual([1, 16, 1]);
  });
});

describe('job runner failures', () => {
  // Statements by submission: "bad" is one the model refuses (as computeFeatures refuses a history that is too short).
  const statements = new Map<string, Statement>([
    ['good', { accountId: 'good' } as unknown as Statement],
    ['bad', { accountId: 'bad' } as unknown as Statement],
  ]);
  const jobOf = (i: number, submissionId: string): JobRow => ({ ...row(i), submissionId });

  function failingRunner(
    opts: { pending?: JobRow[]; appendFails?: boolean; runtimeFaults?: number; retryDelayMs?: number } = {},
  ) {
    const failed: Array<[string, string]> = [];
    const completed: string[] = [];
    const logs: Array<Record<string, unknown>> = [];
    let scoreCalls = 0;
    const deps = {
      store: {
        submissionMeta: async () => ({ inputCommitment: hex(3), nullifier: hex(4), live: true }),
        consentMeta: async () => ({ ref: hex(6) }),
        failJob: async (id: string, code: string) => void failed.push([id, code]),
        getJob: async (id: string) => opts.pending?.find((j) => j.id === id),
        // Keyset pages in (createdAt, id) order, as the store reads them.
        pendingJobs: async (limit: number, after?: { createdAt: number; id: string }) =>
          (opts.pending ?? [])
            .filter(
              (j) => !after || j.createdAt > after.createdAt || (j.createdAt === after.createdAt && j.id > after.id),
            )
            .slice(0, limit),
      },
      scorer: {
        score: async (s: Array<{ accountId: string }>) => {
          scoreCalls++;
          // The model runtime's own failure: not a coded refusal, and with a code of its own that is not ours.
          if (scoreCalls <= (opts.runtimeFaults ?? 0))
            throw Object.assign(new Error('onnxruntime: failed to allocate'), { code: 'ERR_OUT_OF_MEMORY' });
          if (s.some((x) => x.accountId === 'bad')) throw new PropsError('ERR_FEATURES_HISTORY_TOO_SHORT');
          return s.map(() => ({ score: 700, decision: 'approve', threshold: 600, reasonCodes: [] }));
        },
      },
      enclave: { signResultWithBody: async () => ({ attestation: { version: 1, jws: 'a.b.c' }, structHash: hex(5) }) },
      log: {
        appendResults: async (done: Array<{ jobId: string }>) => {
          if (opts.appendFails) throw new Error('SQLITE_IOERR: disk I/O error');
          completed.push(...done.map((d) => d.jobId));
          return done.map((d, i) => ({ jobId: d.jobId, logIndex: i }));
        },
      },
      logger: (e: Record<string, unknown>) => void logs.push(e),
      clock: () => new Date(0),
      resultSigning: 'each',
    } as unknown as ServiceDeps;
    return {
      r: createJobRunner(deps, new Map(statements), { retryDelayMs: opts.retryDelayMs ?? 1 }),
      failed,
      completed,
      logs,
      scoreCalls: () => scoreCalls,
    };
  }

  it('attack: one statement the model refuses does not hold back the other jobs of its batch', async () => {
    const { r, failed, completed } = failingRunner();
    r.enqueue('job-1', jobOf(1, 'good'));
    r.enqueue('job-2', jobOf(2, 'bad'));
    r.enqueue('job-3', jobOf(3, 'good'));
    await turns();
    await r.idle();
    expect(completed.sort()).toEqual(['job-1', 'job-3']);
    expect(failed).toEqual([['job-2', 'ERR_FEATURES_HISTORY_TOO_SHORT']]);
  });

  it('a runtime fault that passes: the job stays accepted, is tried again and completes; its waiter hears the result', async () => {
    const { r, failed, completed, scoreCalls, logs } = failingRunner({ runtimeFaults: 2 });
    const waited = r.waitFor('job-1', 10_000);
    r.enqueue('job-1', jobOf(1, 'good'));
    expect(await waited).toMatchObject({ logIndex: 0 });
    expect(completed).toEqual(['job-1']);
    expect(failed).toEqual([]);
    expect(scoreCalls()).toBe(3);
    expect(logs.filter((l) => l.event === 'job.retry').map((l) => l.attempt)).toEqual([1, 2]);
  });

  it("a runtime fault that persists fails the job after three attempts with ERR_MODEL_RUNTIME, not the runtime's own code", async () => {
    const { r, failed, completed, scoreCalls } = failingRunner({ runtimeFaults: Infinity });
    const waited = r.waitFor('job-1', 10_000);
    r.enqueue('job-1', jobOf(1, 'good'));
    expect(await waited).toBeUndefined();
    expect(failed).toEqual([['job-1', 'ERR_MODEL_RUNTIME']]);
    expect(completed).toEqual([]);
    expect(scoreCalls()).toBe(3);
  });

  it('a runner stopped while a job waits for another try leaves it accepted (the next start resumes it)', async () => {
    const { r, failed, completed, scoreCalls } = failingRunner({ runtimeFaults: Infinity, retryDelayMs: 50 });
    r.enqueue('job-1', jobOf(1, 'good'));
    await turns();
    await r.idle();
    r.stop();
    await new Promise((res) => setTimeout(res, 150));
    expect(scoreCalls()).toBe(1);
    expect(failed).toEqual([]);
    expect(completed).toEqual([]);
  });

  it('a stuck backlog: more jobs than a page left accepted by failing batches do not keep the jobs after them from being tried', async () => {
    // 2,500 jobs in one second (ids order them within it), every batch failing at the commit.
    const pending = Array.from({ length: 2500 }, (_, i) => ({
      ...jobOf(i, 'good'),
      id: `job-${String(i).padStart(5, '0')}`,
      createdAt: 1000,
    }));
    const { r, completed, scoreCalls } = failingRunner({ pending, appendFails: true });
    expect(await r.resume()).toBe(2500);
    expect(completed).toEqual([]);
    expect(scoreCalls()).toBe(Math.ceil(1000 / 64) * 2 + Math.ceil(500 / 64));
  });

  it('resume at start tries each job left accepted once, and returns even when their batch keeps failing', async () => {
    const pending = [jobOf(1, 'good'), jobOf(2, 'good')];
    const { r, completed, scoreCalls } = failingRunner({ pending, appendFails: true });
    expect(await r.resume()).toBe(2);
    expect(completed).toEqual([]);
    expect(scoreCalls()).toBe(1);
  });
});

describe('job runner: a submission re-opened from the store', () => {
  it('attack: another valid ciphertext swapped into the submission row is refused, not scored under the row commitment', async () => {
    const failed: Array<[string, string]> = [];
    let signed = 0;
    const stored = {
      id: 'sub-a',
      ciphertext: 'jwe-of-b',
      inputCommitment: hex(3),
      nullifier: hex(4),
      ownerKey: '{}',
      createdAt: 0,
      deletedAt: null,
    };
    const deps = {
      store: {
        getSubmission: async () => stored,
        submissionMeta: async () => ({ inputCommitment: hex(3), nullifier: hex(4), live: true }),
        consentMeta: async () => ({ ref: hex(6) }),
        failJob: async (id: string, code: string) => void failed.push([id, code]),
      },
      // The swapped-in ciphertext opens to submission B, with B's commitment.
      ingest: async () => ({ submissionId: 'sub-b', inputCommitment: hex(9), statement: {} as Statement }),
      scorer: {
        score: async (s: unknown[]) =>
          s.map(() => ({ score: 450, decision: 'decline', threshold: 600, reasonCodes: [] })),
      },
      enclave: {
        signResultWithBody: async () => (signed++, { attestation: { version: 1, jws: 'a.b.c' }, structHash: hex(5) }),
      },
      log: {
        appendResults: async (done: Array<{ jobId: string }>) => done.map((d, i) => ({ jobId: d.jobId, logIndex: i })),
      },
      logger: () => {},
      clock: () => new Date(0),
      resultSigning: 'each',
    } as unknown as ServiceDeps;
    // An empty statement cache: as after a restart, the submission is opened again from its stored ciphertext.
    const r = createJobRunner(deps, new Map());
    r.enqueue('job-1', { ...row(1), submissionId: 'sub-a' });
    await turns();
    await r.idle();
    expect(failed).toEqual([['job-1', 'ERR_SUBMISSION_MISMATCH']]);
    expect(signed).toBe(0);
  });
});
