// The scoring worker: takes accepted jobs in batches, decrypts their submissions inside the enclave, scores the
// batch, signs each result, and commits results + log leaves + job states in one transaction. A crash before the
// commit leaves the jobs "accepted" and they are redone at start; after it, they are done: exactly once. On a store
// shared by a fleet, the worker claims (leases) the jobs it can decrypt, whichever instance accepted them, and takes
// over those whose instance's lease ran out.
import { findPropsError, type Statement } from '../../protocol/index.ts';
import type { CompletedJob, JobRow } from '../store/index.ts';
import { startClaims, type Claims } from './claims.ts';
import type { ServiceDeps } from './deps.ts';
import { openStatement, scoreGroup, type StatementCache } from './score-group.ts';
import { signResults } from './sign-results.ts';
import { waiters, type JobDone } from './waiters.ts';
import { jobFailures } from './job-failures.ts';

export type { JobDone } from './waiters.ts';

/**
 * A result's attestation as served: a batched result is stored without its batch's head (`CompletedJob`), which
 * goes back in as its first member.
 */
export function attestationJson(attestation: string, head: string | null | undefined): string {
  if (head == null) return attestation;
  const rest = attestation.slice(1).trimStart();
  return `{"head":${JSON.stringify(head)}${rest.startsWith('}') ? '' : ','}${rest}`;
}

export type JobRunner = {
  /** `row`: the job as just accepted (saves re-reading it); without it the job is read and must still be accepted. */
  enqueue(jobId: string, row?: JobRow): void;
  /** Resolves when the job is done or failed, or after `ms` (whichever first); with its result when it completed. */
  waitFor(jobId: string, ms: number): Promise<JobDone | undefined>;
  /** Queues every job left accepted by a previous run (on a shared store: claims those it can decrypt). */
  resume(): Promise<number>;
  idle(): Promise<void>;
  stop(): void;
};

const BATCH = 64;
/** Before a job the model runtime failed on is tried again; then twice that (job-failures.ts). */
const RETRY_DELAY_MS = 250;
/** Jobs read at a time when resuming the backlog. */
const RESUME_PAGE = 1000;
/** A batch that ended this recently (ms) means the service is under load; then a batch under SMALL_BATCH waits. */
const LOAD_WINDOW_MS = 5;
const SMALL_BATCH = 16;

export type { StatementCache } from './score-group.ts';

export function createJobRunner(
  deps: ServiceDeps,
  statementCache: StatementCache,
  opts: { retryDelayMs?: number } = {},
): JobRunner {
  const queue: string[] = [];
  const queued = new Set<string>();
  // Jobs being scored now: a claim that returns one of them again does not queue it twice.
  const inFlight = new Set<string>();
  const rows = new Map<string, JobRow>();
  const { settle, waitFor } = waiters();
  let running: Promise<void> | undefined;
  let stopped = false;
  let lastBatchEnd = Number.NEGATIVE_INFINITY;
  const failures = jobFailures(deps, {
    settle,
    enqueue: (job) => enqueue(job.id, job),
    stopped: () => stopped,
    retryDelayMs: opts.retryDelayMs ?? RETRY_DELAY_MS,
  });
  const { fail, failOrRetry } = failures;

  async function processBatch(ids: string[]): Promise<void> {
    const jobs: Array<{ job: JobRow; statement: Statement }> = [];
    for (const id of ids) {
      const fresh = rows.get(id);
      rows.delete(id);
      const job = fresh ?? (await deps.store.getJob(id));
      if (job?.state !== 'accepted') {
        settle(id);
        continue;
      }
      try {
        jobs.push({ job, statement: await openStatement(deps, statementCache, job) });
      } catch (e) {
        await fail(id, e);
      }
    }
    // One model call per threshold group: the model scores a batch at once.
    const groups = byThreshold(jobs);
    const done: CompletedJob[] = [];
    const retrying = new Set<string>();
    for (const [threshold, all] of groups) {
      const { group, outputs } = await scoreGroup(deps, all, threshold, async (job, e) => {
        if (await failOrRetry(job, e)) retrying.add(job.id);
      });
      if (group.length === 0) continue;
      done.push(...(await signResults(deps, group, outputs)));
    }
    const assigned = await deps.log.appendResults(done);
    const attestations = new Map(done.map((d) => [d.jobId, attestationJson(d.attestation, d.head)]));
    for (const a of assigned) {
      failures.forget(a.jobId);
      deps.logger({ event: 'job.done', job: a.jobId, logIndex: a.logIndex });
      settle(a.jobId, { attestation: attestations.get(a.jobId) as string, logIndex: a.logIndex });
    }
    // A job to be tried again keeps its waiters.
    for (const j of jobs) if (!retrying.has(j.job.id)) settle(j.job.id);
  }

  async function drain(): Promise<void> {
    while (queue.length > 0 && !stopped) {
      const ids = queue.splice(0, BATCH);
      for (const id of ids) {
        queued.delete(id);
        inFlight.add(id);
      }
      try {
        await processBatch(ids);
        lastBatchEnd = performance.now();
      } catch (e) {
        // The batch stays accepted in the store: retried at the next start, or on a shared store at the next claim
        // (the store may be back by then); waiters are released.
        deps.logger({ event: 'batch.error', code: findPropsError(e)?.code ?? 'ERR_INTERNAL' });
        claims?.reclaimOwn();
        for (const id of ids) {
          rows.delete(id);
          settle(id);
        }
      } finally {
        for (const id of ids) inFlight.delete(id);
      }
    }
  }

  const kick = () => {
    running ??= (async () => {
      // Yield once so requests arriving together form one batch. Under load (a batch ended moments ago), a small
      // batch waits a millisecond for more: each batch costs a model call, a signature and a commit whatever its size,
      // and without the wait a saturated service ran batches of ~11 on average against ~25 with it
      // (BENCHMARKS.md, service). A lone request on an idle service does not wait.
      const underLoad = performance.now() - lastBatchEnd < LOAD_WINDOW_MS;
      await new Promise((r) => (underLoad && queue.length < SMALL_BATCH ? setTimeout(r, 1) : setImmediate(r)));
      await drain();
    })().finally(() => {
      running = undefined;
      if (queue.length > 0 && !stopped) kick();
    });
  };

  function enqueue(jobId: string, row?: JobRow): void {
    if (queued.has(jobId) || inFlight.has(jobId)) return;
    queued.add(jobId);
    if (row && row.state === 'accepted') rows.set(jobId, row);
    queue.push(jobId);
    kick();
  }

  // On a shared store: claims of what this instance can decrypt, and waiters told of jobs finished elsewhere.
  const claims = deps.store.shared ? startClaims(deps, { enqueue, settle, page: RESUME_PAGE }) : undefined;

  return {
    enqueue,
    waitFor,
    async resume() {
      if (deps.store.shared) {
        // Its own jobs first taken back (a restart after a crash), then whatever it can decrypt, page by page.
        let tried = 0;
        for (let own = true; ; own = false) {
          const n = await (claims as Claims).claim(own);
          tried += n;
          await this.idle();
          if (n < RESUME_PAGE) return tried;
        }
      }
      return resumeBacklog(
        deps,
        (j) => {
          if (queued.has(j.id)) return false;
          enqueue(j.id);
          return true;
        },
        () => this.idle(),
      );
    },
    async idle() {
      while (running) await running;
    },
    stop() {
      stopped = true;
      claims?.stop();
      // Jobs waiting for another try stay accepted in the store: the next start resumes them.
      failures.clear();
    },
  };
}

/**
 * Each job left accepted is tried once per start, page by page in (createdAt, id) order: one whose batch fails for a
 * reason of the service's (the store, the signer) stays accepted for the next start, behind the page key, instead of
 * being retried here without end or holding back the jobs after it. `take` queues a job (false: it already was).
 */
async function resumeBacklog(
  deps: ServiceDeps,
  take: (job: JobRow) => boolean,
  idle: () => Promise<void>,
): Promise<number> {
  let tried = 0;
  let after: Pick<JobRow, 'createdAt' | 'id'> | undefined;
  for (;;) {
    const page = await deps.store.pendingJobs(RESUME_PAGE, after);
    for (const j of page) if (take(j)) tried++;
    await idle();
    const last = page.at(-1);
    if (!last || page.length < RESUME_PAGE) return tried;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

function byThreshold<J extends { job: JobRow }>(jobs: J[]): Map<number, J[]> {
  const groups = new Map<number, J[]>();
  for (const j of jobs) {
    const group = groups.get(j.job.threshold);
    if (group) group.push(j);
    else groups.set(j.job.threshold, [j]);
  }
  return groups;
}
