// The embedded store: drizzle-orm over better-sqlite3 in WAL mode, migrated from the committed drizzle-kit SQL.
// better-sqlite3 is synchronous, so each method's transaction is atomic with respect to the event loop too.
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { and, asc, desc, eq, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { PropsError } from '../../protocol/index.ts';
import * as t from './schema.ts';
import type { AcceptJobInput, AcceptJobOutcome, CompletedJob, JobRow, Store, TreeHeadRow } from './types.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

const isUnique = (e: unknown) => (e as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true;

export function openSqliteStore(file = ':memory:'): Store & { readonly sqlite: Database.Database } {
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL'); // WAL + NORMAL: a crash of the process loses nothing committed
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('secure_delete = ON'); // deleted ciphertexts are overwritten, not left in free pages
  const db: BetterSQLite3Database<typeof t> = drizzle(sqlite, { schema: t });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });


  return {
    sqlite,
    async createLender(row) {
      db.insert(t.lenders).values(row).run();
    },
    async lenderByKeyHash(keyHash) {
      return db.select().from(t.lenders).where(eq(t.lenders.keyHash, keyHash)).get();
    },
    async insertSubmission(row) {
      try {
        db.insert(t.submissions).values(row).run();
      } catch (e) {
        if (isUnique(e)) throw new PropsError('ERR_SUBMISSION_DUPLICATE');
        throw e;
      }
    },
    async getSubmission(id) {
      return db.select().from(t.submissions).where(eq(t.submissions.id, id)).get();
    },
    async deleteCiphertexts(before, now) {
      const r = db
        .update(t.submissions)
        .set({ ciphertext: null, deletedAt: now })
        .where(and(lt(t.submissions.createdAt, before), isNotNull(t.submissions.ciphertext)))
        .run();
      return r.changes;
    },
    async insertConsent(row) {
      try {
        db.insert(t.consents).values(row).run();
      } catch (e) {
        if (isUnique(e)) throw new PropsError('ERR_CONSENT_DUPLICATE');
        throw e;
      }
    },
    async getConsent(id) {
      return db.select().from(t.consents).where(eq(t.consents.id, id)).get();
    },
    async acceptJob({ job, now, borrowerCap, borrowerWindowSeconds }: AcceptJobInput): Promise<AcceptJobOutcome> {
      return db.transaction((tx) => {
        const existing = tx
          .select()
          .from(t.jobs)
          .where(and(eq(t.jobs.lenderId, job.lenderId), eq(t.jobs.idempotencyKey, job.idempotencyKey)))
          .get();
        if (existing) {
          if (existing.requestHash !== job.requestHash) throw new PropsError('ERR_IDEMPOTENCY_CONFLICT');
          return { job: existing, created: false };
        }
        const consent = tx.select().from(t.consents).where(eq(t.consents.id, job.consentId)).get();
        if (!consent) throw new PropsError('ERR_CONSENT_NOT_FOUND');
        if (consent.uses >= consent.maxUses) throw new PropsError('ERR_CONSENT_EXHAUSTED');
        const sub = tx.select().from(t.submissions).where(eq(t.submissions.id, consent.submissionId)).get();
        if (!sub || sub.ciphertext === null) throw new PropsError('ERR_SUBMISSION_NOT_FOUND');
        const q = tx.select().from(t.borrowerQueries).where(eq(t.borrowerQueries.nullifier, sub.nullifier)).get();
        if (!q || q.windowStart + borrowerWindowSeconds <= now) {
          tx.insert(t.borrowerQueries)
            .values({ nullifier: sub.nullifier, windowStart: now, count: 1 })
            .onConflictDoUpdate({ target: t.borrowerQueries.nullifier, set: { windowStart: now, count: 1 } })
            .run();
        } else {
          if (q.count >= borrowerCap) throw new PropsError('ERR_BORROWER_QUERY_CAP');
          tx.update(t.borrowerQueries).set({ count: q.count + 1 }).where(eq(t.borrowerQueries.nullifier, sub.nullifier)).run();
        }
        try {
          tx.insert(t.nonces).values({ lenderId: job.lenderId, nonce: job.nonce, createdAt: now }).run();
        } catch (e) {
          if (isUnique(e)) throw new PropsError('ERR_NONCE_REPLAYED');
          throw e;
        }
        tx.update(t.consents).set({ uses: sql`${t.consents.uses} + 1` }).where(eq(t.consents.id, consent.id)).run();
        tx.insert(t.jobs).values(job).run();
        return { job, created: true };
      });
    },
    async getJob(id) {
      return db.select().from(t.jobs).where(eq(t.jobs.id, id)).get();
    },
    async pendingJobs(limit) {
      return db.select().from(t.jobs).where(eq(t.jobs.state, 'accepted')).orderBy(asc(t.jobs.createdAt)).limit(limit).all();
    },
    async completeJobs(done: CompletedJob[], now) {
      if (done.length === 0) return [];
      return db.transaction((tx) => {
        const out: Array<{ jobId: string; logIndex: number }> = [];
        const pending = new Set(
          tx.select({ id: t.jobs.id }).from(t.jobs)
            .where(and(inArray(t.jobs.id, done.map((d) => d.jobId)), eq(t.jobs.state, 'accepted')))
            .all()
            .map((r) => r.id),
        );
        const last = tx.select({ idx: t.logLeaves.idx }).from(t.logLeaves).orderBy(desc(t.logLeaves.idx)).limit(1).get();
        let next = last ? last.idx + 1 : 0;
        for (const d of done) {
          if (!pending.delete(d.jobId)) continue;
          const logIndex = next++;
          tx.insert(t.logLeaves).values({ idx: logIndex, structHash: d.structHash, jobId: d.jobId }).run();
          tx.insert(t.results).values({ jobId: d.jobId, attestation: d.attestation, logIndex }).run();
          tx.update(t.jobs).set({ state: 'done', updatedAt: now }).where(eq(t.jobs.id, d.jobId)).run();
          out.push({ jobId: d.jobId, logIndex });
        }
        return out;
      });
    },
    async failJob(id, code, now) {
      db.update(t.jobs).set({ state: 'failed', errorCode: code, updatedAt: now }).where(and(eq(t.jobs.id, id), eq(t.jobs.state, 'accepted'))).run();
    },
    async getResult(jobId) {
      return db.select().from(t.results).where(eq(t.results.jobId, jobId)).get();
    },
    async logLeaves() {
      return db.select({ h: t.logLeaves.structHash }).from(t.logLeaves).orderBy(asc(t.logLeaves.idx)).all().map((r) => r.h);
    },
    async putTreeHead(row: TreeHeadRow) {
      db.insert(t.treeHeads).values(row).onConflictDoNothing().run();
    },
    async treeHead(size) {
      const q = db.select().from(t.treeHeads);
      return size === undefined ? q.orderBy(desc(t.treeHeads.treeSize)).limit(1).get() : q.where(eq(t.treeHeads.treeSize, size)).get();
    },
    async audit(kind, actor, subject) {
      db.insert(t.auditEvents).values({ kind, actor, subject }).run();
    },
    close() {
      sqlite.close();
    },
  };
}
