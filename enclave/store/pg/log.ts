// The shared store's transparency-log side: completing jobs into log entries (one call of props_complete_jobs per
// batch), reading the entries back, and the signed tree heads.
import { and, desc, eq } from 'drizzle-orm';
import type { CompletedJob, ResultRow, Store } from '../types.ts';
import type { PgContext } from './context.ts';
import * as t from './schema.ts';
import { Q } from './statements.ts';

type LogMethods = 'completeJobs' | 'getResult' | 'logLeaves' | 'logIds' | 'putTreeHead' | 'treeHead';

export function pgLog({ db, run, retrying, guard }: PgContext): Pick<Store, LogMethods> {
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
      guard(
        async () =>
          void (await db
            .insert(t.treeHeads)
            .values({ logId, ...row })
            .onConflictDoNothing()),
      ),
    treeHead: (logId, size) =>
      guard(async () => {
        const q = db
          .select({
            treeSize: t.treeHeads.treeSize,
            rootHash: t.treeHeads.rootHash,
            timestamp: t.treeHeads.timestamp,
            jws: t.treeHeads.jws,
            chainSignature: t.treeHeads.chainSignature,
          })
          .from(t.treeHeads);
        const rows =
          size === undefined
            ? await q.where(eq(t.treeHeads.logId, logId)).orderBy(desc(t.treeHeads.treeSize)).limit(1)
            : await q.where(and(eq(t.treeHeads.logId, logId), eq(t.treeHeads.treeSize, size)));
        return rows[0];
      }),
  };
}
