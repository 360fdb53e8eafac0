// The scoring worker: takes accepted jobs in batches, decrypts their submissions inside the enclave, scores the
// batch, signs each result, and commits results + log leaves + job states in one transaction. A crash before the
// commit leaves the jobs "accepted" and they are redone at start; after it, they are done: exactly once.
import { findPropsError, PropsError, type BatchedResult, type Hex, type ResultOutput, type Statement } from '../../protocol/index.ts';
import type { CompletedJob, JobRow } from '../store/index.ts';
import type { ServiceDeps } from './deps.ts';

/** What a waiter hears when its job completed in this process: its attestation (JSON text, as served) and log index. */
export type JobDone = { attestation: string; logIndex: number };

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
  /** Queues every job left accepted by a previous run. */
  resume(): Promise<number>;
  idle(): Promise<void>;
  stop(): void;
};

const BATCH = 64;
/**
 * A job the model runtime failed on (an error that is not a coded refusal of its input) is tried this many times in
 * all, RETRY_DELAY_MS, then twice that, apart, before it fails with ERR_MODEL_RUNTIME.
 */
const RUNTIME_ATTEMPTS = 3;
const RETRY_DELAY_MS = 250;
/** Jobs read at a time when resuming the backlog. */
const RESUME_PAGE = 1000;
/** A batch that ended this recently (ms) means the service is under load; then a batch under SMALL_BATCH waits. */
const LOAD_WINDOW_MS = 5;
const SMALL_BATCH = 16;

/** Decrypted statements by submission id; may forget any of them (a forgotten one is re-opened from the store). */
export type StatementCache = { get(submissionId: string): Statement | undefined; set(submissionId: string, statement: Statement): unknown };

export function createJobRunner(deps: ServiceDeps, statementCache: StatementCache, opts: { retryDelayMs?: number } = {}): JobRunner {
  const retryDelayMs = opts.retryDelayMs ?? RETRY_DELAY_MS;
  const queue: string[] = [];
  const queued = new Set<string>();
  const rows = new Map<string, JobRow>();
  const waiters = new Map<string, Array<(done?: JobDone) => void>>();
  let running: Promise<void> | undefined;
  let stopped = false;
  let lastBatchEnd = Number.NEGATIVE_INFINITY;
  // Jobs waiting for another try after a runtime fault: attempts so far, and the timer that re-queues them.
  const retries = new Map<string, { attempts: number; timer?: NodeJS.Timeout }>();

  const settle = (id: string, done?: JobDone) => {
    const list = waiters.get(id);
    if (!list) return;
    waiters.delete(id);
    for (const w of list) w(done);
  };
  const nowS = () => Math.floor(deps.clock().getTime() / 1000);

  async function statementOf(job: JobRow): Promise<Statement> {
    const cached = statementCache.get(job.submissionId);
    if (cached) return cached;
    const sub = await deps.store.getSubmission(job.submissionId);
    if (!sub || sub.ciphertext === null) throw new PropsError('ERR_SUBMISSION_NOT_FOUND');
    // Re-opened after a restart: proofs are judged as of when the submission was accepted.
    const ingested = await deps.ingest(sub.ciphertext, { acceptedAt: new Date(sub.createdAt * 1000) });
    // The result is signed with the row's input commitment: the ciphertext must be the one that row was made from,
    // not another valid submission put in its place in the database.
    if (ingested.submissionId !== sub.id || ingested.inputCommitment !== sub.inputCommitment) throw new PropsError('ERR_SUBMISSION_MISMATCH');
    statementCache.set(job.submissionId, ingested.statement);
    return ingested.statement;
  }

  async function fail(id: string, e: unknown): Promise<void> {
    // Only the project's stable codes are stored and served: a runtime's own error code (Node's, the OS's) is not one.
    const code = findPropsError(e)?.code ?? 'ERR_JOB_FAILED';
    retries.delete(id);
    await deps.store.failJob(id, code, nowS());
    deps.logger({ event: 'job.failed', job: id, code });
    settle(id);
  }

  /**
   * A job scored alone failed. A coded refusal is about its input (the model refuses the statement) and final. Any
   * other error is the runtime's (out of memory, a device fault), which may pass: the job stays accepted and is tried
   * again shortly, its waiters still waiting, up to RUNTIME_ATTEMPTS in all (a runner being stopped leaves it accepted
   * for the next start). Returns whether it will be retried.
   */
  async function failOrRetry(job: JobRow, e: unknown): Promise<boolean> {
    const refusal = findPropsError(e);
    if (refusal) {
      await fail(job.id, refusal);
      return false;
    }
    if (stopped) return false;
    const attempts = (retries.get(job.id)?.attempts ?? 0) + 1;
    if (attempts >= RUNTIME_ATTEMPTS) {
      await fail(job.id, new PropsError('ERR_MODEL_RUNTIME', { cause: e }));
      return false;
    }
    const timer = setTimeout(() => {
      retries.set(job.id, { attempts });
      if (!stopped) enqueue(job.id, job);
    }, retryDelayMs * 2 ** (attempts - 1));
    timer.unref();
    retries.set(job.id, { attempts, timer });
    deps.logger({ event: 'job.retry', job: job.id, attempt: attempts });
    return true;
  }

  /**
   * One model call for the group. A statement the model cannot score (its features refuse it, say a history too
   * short) must not hold back the others, which would stay accepted and fail again at every start: when the group
   * call fails, each job is scored alone; one refused alone fails with its own code, one the runtime failed on is
   * tried again later (failOrRetry, `retrying`).
   */
  async function scoreGroup<G extends { job: JobRow; statement: Statement }>(group: G[], threshold: number, retrying: Set<string>): Promise<{ group: G[]; outputs: ResultOutput[] }> {
    if (group.length > 1) {
      try {
        return { group, outputs: await deps.scorer.score(group.map((g) => g.statement), threshold) };
      } catch {
        // Each job alone, below.
      }
    }
    const kept: G[] = [];
    const outputs: ResultOutput[] = [];
    for (const g of group) {
      try {
        const [output] = await deps.scorer.score([g.statement], threshold);
        if (!output) throw new PropsError('ERR_JOB_FAILED', { detail: 'no output' });
        kept.push(g);
        outputs.push(output);
      } catch (e) {
        if (await failOrRetry(g.job, e)) retrying.add(g.job.id);
      }
    }
    return { group: kept, outputs };
  }

  async function processBatch(ids: string[]): Promise<void> {
    const jobs: Array<{ job: JobRow; statement: Statement }> = [];
    for (const id of ids) {
      const fresh = rows.get(id);
      rows.delete(id);
      const job = fresh ?? (await deps.store.getJob(id));
      if (!job || job.state !== 'accepted') {
        settle(id);
        continue;
      }
      try {
        jobs.push({ job, statement: await statementOf(job) });
      } catch (e) {
        await fail(id, e);
      }
    }
    // One model call per threshold group: the model scores a batch at once.
    const groups = new Map<number, typeof jobs>();
    for (const j of jobs) {
      const group = groups.get(j.job.threshold);
      if (group) group.push(j);
      else groups.set(j.job.threshold, [j]);
    }
    const done: CompletedJob[] = [];
    const retrying = new Set<string>();
    for (const [threshold, all] of groups) {
      const { group, outputs } = await scoreGroup(all, threshold, retrying);
      if (group.length === 0) continue;
      const submissions = await Promise.all(group.map((g) => deps.store.submissionMeta(g.job.submissionId)));
      // A result names its consent by the consent's `consentRef` (the tagged hash of its exact JWS), the value the
      // data owner was handed when signing it, not by the id the service files it under.
      const consents = await Promise.all(group.map((g) => deps.store.consentMeta(g.job.consentId)));
      const requestOf = (g: (typeof group)[number], i: number) => {
        const consent = consents[i];
        return consent ? { requestId: g.job.requestId as Hex, nonce: g.job.nonce as Hex, consentRef: consent.ref as Hex } : undefined;
      };
      if (deps.resultSigning === 'batch') {
        // One signature for the group: a head over the RFC 9162 root of its results' log leaves, each result with
        // its inclusion proof (protocol/result-batch.ts).
        const items = group.flatMap((g, i) => {
          const output = outputs[i];
          const sub = submissions[i];
          const request = requestOf(g, i);
          return output && sub && request ? [{ g, item: { request, output, inputCommitment: sub.inputCommitment as Hex } }] : [];
        });
        if (items.length === 0) continue;
        const signed = await deps.enclave.signResultBatch(items.map((x) => x.item));
        items.forEach((x, i) => {
          const { head, ...rest } = signed.results[i] as BatchedResult;
          done.push({ jobId: x.g.job.id, attestation: JSON.stringify(rest), structHash: signed.structHashes[i] as string, head });
        });
        continue;
      }
      await Promise.all(
        group.map(async (g, i) => {
          const output = outputs[i];
          const sub = submissions[i];
          const request = requestOf(g, i);
          if (!output || !sub || !request) return;
          // The struct hash (the log leaf's datum) comes back with the attestation, computed once for the EIP-712
          // signature: neither the JWS is re-parsed nor the statement hashed again.
          const { attestation, structHash } = await deps.enclave.signResultWithBody(request, output, sub.inputCommitment as Hex);
          done.push({ jobId: g.job.id, attestation: JSON.stringify(attestation), structHash });
        }),
      );
    }
    const assigned = await deps.log.appendResults(done);
    const attestations = new Map(done.map((d) => [d.jobId, attestationJson(d.attestation, d.head)]));
    for (const a of assigned) {
      retries.delete(a.jobId);
      deps.logger({ event: 'job.done', job: a.jobId, logIndex: a.logIndex });
      settle(a.jobId, { attestation: attestations.get(a.jobId) as string, logIndex: a.logIndex });
    }
    // A job to be tried again keeps its waiters.
    for (const j of jobs) if (!retrying.has(j.job.id)) settle(j.job.id);
  }

  async function drain(): Promise<void> {
    while (queue.length > 0 && !stopped) {
      const ids = queue.splice(0, BATCH);
      for (const id of ids) queued.delete(id);
      try {
        await processBatch(ids);
        lastBatchEnd = performance.now();
      } catch (e) {
        // The batch stays accepted in the store and is retried at the next start; waiters are released.
        deps.logger({ event: 'batch.error', code: findPropsError(e)?.code ?? 'ERR_INTERNAL' });
        for (const id of ids) {
          rows.delete(id);
          settle(id);
        }
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
    if (queued.has(jobId)) return;
    queued.add(jobId);
    if (row && row.state === 'accepted') rows.set(jobId, row);
    queue.push(jobId);
    kick();
  }

  return {
    enqueue,
    waitFor(jobId, ms) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          const list = waiters.get(jobId);
          if (list) {
            const rest = list.filter((w) => w !== finish);
            if (rest.length > 0) waiters.set(jobId, rest);
            else waiters.delete(jobId);
          }
          resolve(undefined);
        }, ms);
        const finish = (done?: JobDone) => {
          clearTimeout(timer);
          resolve(done);
        };
        const list = waiters.get(jobId);
        if (list) list.push(finish);
        else waiters.set(jobId, [finish]);
      });
    },
    async resume() {
      // Each job left accepted is tried once per start, page by page in (createdAt, id) order: one whose batch fails
      // for a reason of the service's (the store, the signer) stays accepted for the next start, behind the page
      // key, instead of being retried here without end or holding back the jobs after it.
      let tried = 0;
      let after: Pick<JobRow, 'createdAt' | 'id'> | undefined;
      for (;;) {
        const page = await deps.store.pendingJobs(RESUME_PAGE, after);
        for (const j of page) {
          if (queued.has(j.id)) continue;
          tried++;
          enqueue(j.id);
        }
        await this.idle();
        const last = page.at(-1);
        if (!last || page.length < RESUME_PAGE) break;
        after = { createdAt: last.createdAt, id: last.id };
      }
      return tried;
    },
    async idle() {
      while (running) await running;
    },
    stop() {
      stopped = true;
      // Jobs waiting for another try stay accepted in the store: the next start resumes them.
      for (const r of retries.values()) clearTimeout(r.timer);
      retries.clear();
    },
  };
}
