// On a store shared by a fleet: this instance leases the accepted jobs it can decrypt (whichever instance accepted
// them, and those whose lease ran out because their instance died), when told of new ones and every
// limits.claimIntervalMs; and callers waiting here for a job finished by another instance hear of it.
import { findPropsError } from '../../protocol/index.ts';
import type { JobRow } from '../store/index.ts';
import type { ServiceDeps } from './deps.ts';

export type Claims = {
  /** Leases what this instance can decrypt and queues it; with `own`, also its own jobs (after a restart). Resolves to how many. */
  claim(own: boolean): Promise<number>;
  /** The next claim also takes back this instance's own jobs (a batch of them failed, say the store was down). */
  reclaimOwn(): void;
  stop(): void;
};

export function startClaims(
  deps: ServiceDeps,
  runner: { enqueue(jobId: string, row: JobRow): void; settle(jobId: string): void; page: number },
): Claims {
  let stopped = false;
  let ownToo = false;
  let claiming: Promise<number> | undefined;
  const claim = (own: boolean): Promise<number> => {
    claiming ??= (async () => {
      const includeOwn = own || ownToo;
      ownToo = false;
      const jobs = await deps.store.claimJobs({
        decryptionKey: deps.decryptionKey,
        owner: deps.log.id,
        limit: runner.page,
        now: deps.clock().getTime(),
        leaseMs: deps.limits.jobLeaseMs,
        includeOwn,
      });
      for (const j of jobs) runner.enqueue(j.id, j);
      return jobs.length;
    })().finally(() => {
      claiming = undefined;
    });
    return claiming;
  };
  const claimQuietly = () => {
    if (stopped) return;
    claim(false).catch((e) => {
      ownToo = true;
      deps.logger({ event: 'claim.error', code: findPropsError(e)?.code ?? 'ERR_INTERNAL' });
    });
  };
  const unwatch = deps.store.watch({
    accepted: (key) => {
      if (key === deps.decryptionKey) claimQuietly();
    },
    // A job finished elsewhere: its waiters here read it from the store.
    finished: (ids) => {
      for (const id of ids) runner.settle(id);
    },
  });
  const timer = setInterval(claimQuietly, deps.limits.claimIntervalMs);
  timer.unref();
  return {
    claim,
    reclaimOwn: () => {
      ownToo = true;
    },
    stop() {
      stopped = true;
      unwatch();
      clearInterval(timer);
    },
  };
}
