// The embedded store's job reads and state changes apart from acceptance and completion: lookups, the lender's and
// the backlog's pages, claims and failure.
import { and, asc, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { SqliteDb } from './sqlite-connection.ts';
import type { SqliteQueries } from './sqlite-statements.ts';
import * as t from './schema.ts';
import type { Store } from './types.ts';

type JobMethods = 'getJob' | 'jobByIdempotencyKey' | 'listJobs' | 'claimJobs' | 'pendingJobs' | 'failJob';

export function sqliteJobs(db: SqliteDb, q: SqliteQueries): Pick<Store, JobMethods> {
  return {
    async getJob(id) {
      return q.job.get({ id });
    },
    async jobByIdempotencyKey(lenderId, key) {
      return q.jobByIdem.get({ lenderId, key });
    },
    async listJobs(lenderId, limit, before) {
      const mine = eq(t.jobs.lenderId, lenderId);
      const where = before
        ? and(
            mine,
            or(
              lt(t.jobs.createdAt, before.createdAt),
              and(eq(t.jobs.createdAt, before.createdAt), lt(t.jobs.id, before.id)),
            ),
          )
        : mine;
      return db.select().from(t.jobs).where(where).orderBy(desc(t.jobs.createdAt), desc(t.jobs.id)).limit(limit).all();
    },
    async claimJobs({ decryptionKey, owner, limit, now, leaseMs, includeOwn }) {
      // One process holds an embedded database, so a read and an update in one transaction is a claim.
      return db.transaction(() => {
        const free = or(
          isNull(t.jobs.claimedBy),
          lt(t.jobs.leaseUntil, now),
          includeOwn ? eq(t.jobs.claimedBy, owner) : sql`0`,
        );
        const rows = db
          .select()
          .from(t.jobs)
          .where(and(eq(t.jobs.state, 'accepted'), eq(t.jobs.decryptionKey, decryptionKey), free))
          .orderBy(asc(t.jobs.createdAt), asc(t.jobs.id))
          .limit(limit)
          .all();
        const leaseUntil = now + leaseMs;
        for (const r of rows) db.update(t.jobs).set({ claimedBy: owner, leaseUntil }).where(eq(t.jobs.id, r.id)).run();
        return rows.map((r) => ({ ...r, claimedBy: owner, leaseUntil }));
      });
    },
    async pendingJobs(limit, after) {
      // Read through the partial index jobs_pending (SQLite matches the bound 'accepted' against its WHERE), from
      // the key after the last page's last job.
      const accepted = eq(t.jobs.state, 'accepted');
      const where = after
        ? and(
            accepted,
            or(
              gt(t.jobs.createdAt, after.createdAt),
              and(eq(t.jobs.createdAt, after.createdAt), gt(t.jobs.id, after.id)),
            ),
          )
        : accepted;
      return db.select().from(t.jobs).where(where).orderBy(asc(t.jobs.createdAt), asc(t.jobs.id)).limit(limit).all();
    },
    async failJob(id, code, now) {
      db.update(t.jobs)
        .set({ state: 'failed', errorCode: code, updatedAt: now })
        .where(and(eq(t.jobs.id, id), eq(t.jobs.state, 'accepted')))
        .run();
    },
  };
}
