// The shared store's transparency-log side: completing jobs into log entries (one call of props_complete_jobs per
// batch), reading the entries back, and the signed tree heads.
import type { CompletedJob, ResultRow, Store, TreeHeadRow } from '../types.ts';
import type { PgContext } from './context.ts';
import { Q } from './statements.ts';

type LogMethods = 'completeJobs' | 'getResult' | 'logLeaves' | 'logIds' | 'putTreeHead' | 'treeHead';

export function pgLog({ run, retrying, guard }: PgContext): Pick<Store, LogMethods> {
  return {
    completeJobs: (logId, done: CompletedJob[], now) =>
      guard(async () => {
        if (done.length === 0) return [];
        return retrying(() =>
          run<{ jobId: string; logIndex: number }>(Q.completeJobs, [logId, now, JSON.stringify(done)]),
        );
      }),
    getResult: (jobId) => guard(async () => (await run<ResultRow>(Q.result, [jobId]))[0]),
    logLeaves: (logId, from = 0) =>
      guard(async () => (await run<{ h: string }>(Q.logLeaves, [logId, from])).map((r) => r.h)),
    logIds: () => guard(async () => (await run<{ id: string }>(Q.logIds, [])).map((r) => r.id)),
    putTreeHead: (logId, row) =>
      guard(async () => {
        await run(Q.putTreeHead, [logId, row.treeSize, row.rootHash, row.timestamp, row.jws, row.chainSignature]);
      }),
    treeHead: (logId, size) =>
      guard(
        async () =>
          (
            await run<TreeHeadRow>(
              size === undefined ? Q.treeHeadLatest : Q.treeHeadAt,
              size === undefined ? [logId] : [logId, size],
            )
          )[0],
      ),
  };
}
