// The job runner's batching: a lone job on an idle runner is scored on the next turn; under load (a batch ended
// moments ago) a batch that starts small waits a millisecond for more, and SMALL_BATCH or more queued do not wait.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Statement } from '../../protocol/index.ts';
import type { JobRow } from '../store/index.ts';
import type { ServiceDeps } from './deps.ts';
import { createJobRunner } from './jobs.ts';

const hex = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const row = (i: number): JobRow => ({
  id: `job-${i}`, lenderId: 'l', idempotencyKey: `k-${i}`, requestHash: hex(1), consentId: hex(2), submissionId: 'sub', requestId: hex(100 + i),
  nonce: hex(200 + i), escrowJobId: null, threshold: 600, state: 'accepted', errorCode: null, createdAt: 0, updatedAt: 0,
});

function runner(gate?: () => Promise<void>) {
  const batches: number[] = [];
  const deps = {
    store: { submissionMeta: async () => ({ inputCommitment: hex(3), nullifier: hex(4), live: true }), failJob: async () => {} },
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
    const { r, batches, enqueue } = runner(() => (gated ? new Promise<void>((resolve) => (open = resolve)) : Promise.resolve()));
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
