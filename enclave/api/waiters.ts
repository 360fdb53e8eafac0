// Callers waiting for a job to finish: each hears its result when the job completed in this process, or nothing when
// it failed, finished elsewhere (they read it from the store) or the wait ran out.
/** What a waiter hears when its job completed in this process: its attestation (JSON text, as served) and log index. */
export type JobDone = { attestation: string; logIndex: number };

export type Waiters = {
  /** Resolves when the job is settled or after `ms` (whichever first); with its result when it completed here. */
  waitFor(jobId: string, ms: number): Promise<JobDone | undefined>;
  settle(jobId: string, done?: JobDone): void;
};

export function waiters(): Waiters {
  const waiting = new Map<string, Array<(done?: JobDone) => void>>();
  return {
    settle(id, done) {
      const list = waiting.get(id);
      if (!list) return;
      waiting.delete(id);
      for (const w of list) w(done);
    },
    waitFor(jobId, ms) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          const list = waiting.get(jobId);
          if (list) {
            const rest = list.filter((w) => w !== finish);
            if (rest.length > 0) waiting.set(jobId, rest);
            else waiting.delete(jobId);
          }
          resolve(undefined);
        }, ms);
        const finish = (done?: JobDone) => {
          clearTimeout(timer);
          resolve(done);
        };
        const list = waiting.get(jobId);
        if (list) list.push(finish);
        else waiting.set(jobId, [finish]);
      });
    },
  };
}
