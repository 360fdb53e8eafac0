// The scoring worker: takes accepted jobs in batches, decrypts their submissions inside the enclave, scores the
// batch, signs each result, and commits results + log leaves + job states in one transaction. A crash before the
// commit leaves the jobs "accepted" and they are redone at start; after it, they are done: exactly once.
import { findPropsError, PropsError, type Hex, type Statement } from '../../protocol/index.ts';
import { resultMessage, resultStructHash } from '../../protocol/index.ts';
import type { CompletedJob, JobRow } from '../store/index.ts';
import type { ServiceDeps } from './deps.ts';

export type JobRunner = {
  enqueue(jobId: string): void;
  /** Resolves when the job is done or failed, or after `ms` (whichever first). */
  waitFor(jobId: string, ms: number): Promise<void>;
  /** Queues every job left accepted by a previous run. */
  resume(): Promise<number>;
  idle(): Promise<void>;
  stop(): void;
};

const BATCH = 64;

export function createJobRunner(deps: ServiceDeps, statementCache: Map<string, Statement>): JobRunner {
  const queue: string[] = [];
  const queued = new Set<string>();
  const waiters = new Map<string, Array<() => void>>();
  let running: Promise<void> | undefined;
  let stopped = false;

  const settle = (id: string) => {
    for (const w of waiters.get(id) ?? []) w();
    waiters.delete(id);
  };
  const nowS = () => Math.floor(deps.clock().getTime() / 1000);

  async function statementOf(job: JobRow): Promise<Statement> {
    const cached = statementCache.get(job.submissionId);
    if (cached) return cached;
    const sub = await deps.store.getSubmission(job.submissionId);
    if (!sub || sub.ciphertext === null) throw new PropsError('ERR_SUBMISSION_NOT_FOUND');
    // Re-opened after a restart: proofs are judged as of when the submission was accepted.
    const ingested = await deps.ingest(sub.ciphertext, { acceptedAt: new Date(sub.createdAt * 1000) });
    statementCache.set(job.submissionId, ingested.statement);
    return ingested.statement;
  }

  async function processBatch(ids: string[]): Promise<void> {
    const jobs: Array<{ job: JobRow; statement: Statement }> = [];
    for (const id of ids) {
      const job = await deps.store.getJob(id);
      if (!job || job.state !== 'accepted') {
        settle(id);
        continue;
      }
      try {
        jobs.push({ job, statement: await statementOf(job) });
      } catch (e) {
        const code = findPropsError(e)?.code ?? (e as { code?: string }).code ?? 'ERR_JOB_FAILED';
        await deps.store.failJob(id, code, nowS());
        deps.logger({ event: 'job.failed', job: id, code });
        settle(id);
      }
    }
    // One model call per threshold group: the model scores a batch at once.
    const groups = new Map<number, typeof jobs>();
    for (const j of jobs) groups.set(j.job.threshold, [...(groups.get(j.job.threshold) ?? []), j]);
    const done: CompletedJob[] = [];
    for (const [threshold, group] of groups) {
      const outputs = await deps.scorer.score(group.map((g) => g.statement), threshold);
      const submissions = await Promise.all(group.map((g) => deps.store.submissionMeta(g.job.submissionId)));
      await Promise.all(
        group.map(async (g, i) => {
          const output = outputs[i];
          const sub = submissions[i];
          if (!output || !sub) return;
          // The signed statement comes back with the attestation: the log leaf is computed without re-parsing the JWS.
          const { attestation, body } = await deps.enclave.signResultWithBody(
            { requestId: g.job.requestId as Hex, nonce: g.job.nonce as Hex, consentRef: g.job.consentId as Hex },
            output,
            sub.inputCommitment as Hex,
          );
          done.push({ jobId: g.job.id, attestation: JSON.stringify(attestation), structHash: resultStructHash(resultMessage(body)) });
        }),
      );
    }
    const assigned = await deps.log.appendResults(done);
    for (const a of assigned) deps.logger({ event: 'job.done', job: a.jobId, logIndex: a.logIndex });
    for (const j of jobs) settle(j.job.id);
  }

  async function drain(): Promise<void> {
    while (queue.length > 0 && !stopped) {
      const ids = queue.splice(0, BATCH);
      for (const id of ids) queued.delete(id);
      try {
        await processBatch(ids);
      } catch (e) {
        // The batch stays accepted in the store and is retried at the next start; waiters are released.
        deps.logger({ event: 'batch.error', code: findPropsError(e)?.code ?? 'ERR_INTERNAL' });
        for (const id of ids) settle(id);
      }
    }
  }

  const kick = () => {
    running ??= (async () => {
      // Yield once so requests arriving together form one batch.
      await new Promise((r) => setImmediate(r));
      await drain();
    })().finally(() => {
      running = undefined;
      if (queue.length > 0 && !stopped) kick();
    });
  };

  return {
    enqueue(jobId) {
      if (queued.has(jobId)) return;
      queued.add(jobId);
      queue.push(jobId);
      kick();
    },
    waitFor(jobId, ms) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          const list = waiters.get(jobId);
          if (list) waiters.set(jobId, list.filter((w) => w !== done));
          resolve();
        }, ms);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        waiters.set(jobId, [...(waiters.get(jobId) ?? []), done]);
      });
    },
    async resume() {
      let n = 0;
      for (;;) {
        const pending = await deps.store.pendingJobs(1000);
        const fresh = pending.filter((j) => !queued.has(j.id));
        if (fresh.length === 0) break;
        for (const j of fresh) this.enqueue(j.id);
        n += fresh.length;
        await this.idle();
      }
      return n;
    },
    async idle() {
      while (running) await running;
    },
    stop() {
      stopped = true;
    },
  };
}
