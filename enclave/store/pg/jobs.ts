// The shared store's job reads and state changes apart from acceptance and completion: lookups, the lender's and
// the backlog's pages, claims (leases between instances) and failure.
import type { ClaimJobsInput, JobKey, JobRow, Store } from '../types.ts';
import type { PgContext } from './context.ts';
import { Q } from './statements.ts';

type JobMethods = 'getJob' | 'jobByIdempotencyKey' | 'listJobs' | 'pendingJobs' | 'claimJobs' | 'failJob';

export function pgJobs({ run, retrying, guard }: PgContext): Pick<Store, JobMethods> {
  return {
    getJob: (id) => guard(async () => (await run<JobRow>(Q.job, [id]))[0]),
    jobByIdempotencyKey: (lenderId, idempotencyKey) =>
      guard(async () => (await run<JobRow>(Q.jobByIdempotencyKey, [lenderId, idempotencyKey]))[0]),
    listJobs: (lenderId, limit, before?: JobKey) =>
      guard(() =>
        before
          ? run<JobRow>(Q.listJobsBefore, [lenderId, limit, before.createdAt, before.id])
          : run<JobRow>(Q.listJobs, [lenderId, limit]),
      ),
    pendingJobs: (limit, after?: JobKey) =>
      guard(() =>
        after
          ? run<JobRow>(Q.pendingJobsAfter, [limit, after.createdAt, after.id])
          : run<JobRow>(Q.pendingJobs, [limit]),
      ),
    claimJobs: ({ decryptionKey, owner, limit, now, leaseMs, includeOwn }: ClaimJobsInput) =>
      guard(() => retrying(() => run<JobRow>(Q.claimJobs, [decryptionKey, owner, now, leaseMs, includeOwn, limit]))),
    failJob: (id, code, now) => guard(async () => void (await run(Q.failJob, [id, code, now]))),
  };
}
