// What becomes of a job that could not be scored. A coded refusal is about its input (the model refuses the statement)
// and final. Any other error is the runtime's (out of memory, a device fault), which may pass: the job stays accepted
// and is tried again shortly, its waiters still waiting, up to RUNTIME_ATTEMPTS in all, retryDelayMs then twice that
// apart, before it fails with ERR_MODEL_RUNTIME (a runner being stopped leaves it accepted for the next start).
import { findPropsError, PropsError } from '../../protocol/index.ts';
import type { JobRow } from '../store/index.ts';
import type { ServiceDeps } from './deps.ts';

const RUNTIME_ATTEMPTS = 3;

export type JobFailures = {
  /** Fails the job for good with the error's code (ERR_JOB_FAILED for one that has none of ours). */
  fail(id: string, e: unknown): Promise<void>;
  /** A job scored alone failed: fails it, or schedules another try; returns whether it will be tried again. */
  failOrRetry(job: JobRow, e: unknown): Promise<boolean>;
  /** The job is done: no try is pending for it any more. */
  forget(id: string): void;
  /** Cancels every pending try (the jobs stay accepted in the store). */
  clear(): void;
};

export function jobFailures(
  deps: ServiceDeps,
  runner: { settle(id: string): void; enqueue(job: JobRow): void; stopped(): boolean; retryDelayMs: number },
): JobFailures {
  // Jobs waiting for another try: attempts so far, and the timer that re-queues them.
  const retries = new Map<string, { attempts: number; timer?: NodeJS.Timeout }>();
  const fail = async (id: string, e: unknown) => {
    // Only the project's stable codes are stored and served: a runtime's own error code (Node's, the OS's) is not one.
    const code = findPropsError(e)?.code ?? 'ERR_JOB_FAILED';
    retries.delete(id);
    await deps.store.failJob(id, code, Math.floor(deps.clock().getTime() / 1000));
    deps.logger({ event: 'job.failed', job: id, code });
    runner.settle(id);
  };
  return {
    fail,
    async failOrRetry(job, e) {
      const refusal = findPropsError(e);
      if (refusal) {
        await fail(job.id, refusal);
        return false;
      }
      if (runner.stopped()) return false;
      const attempts = (retries.get(job.id)?.attempts ?? 0) + 1;
      if (attempts >= RUNTIME_ATTEMPTS) {
        await fail(job.id, new PropsError('ERR_MODEL_RUNTIME', { cause: e }));
        return false;
      }
      const timer = setTimeout(
        () => {
          retries.set(job.id, { attempts });
          if (!runner.stopped()) runner.enqueue(job);
        },
        runner.retryDelayMs * 2 ** (attempts - 1),
      );
      timer.unref();
      retries.set(job.id, { attempts, timer });
      deps.logger({ event: 'job.retry', job: job.id, attempt: attempts });
      return true;
    },
    forget: (id) => void retries.delete(id),
    clear() {
      for (const r of retries.values()) clearTimeout(r.timer);
      retries.clear();
    },
  };
}
