// The embedded store's hot-path statements, prepared once (drizzle builds and SQLite compiles them a single time), so
// a score request costs a few statement executions, not a few query compilations.
import type Database from 'better-sqlite3';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { SqliteDb } from './sqlite-connection.ts';
import * as t from './schema.ts';
import type { ConsentMeta } from './types.ts';

const p = (name: string) => sql.placeholder(name);
const placeholders = (cols: readonly string[]) => Object.fromEntries(cols.map((c) => [c, p(c)])) as never;
const JOB_COLS = [
  'id',
  'lenderId',
  'idempotencyKey',
  'requestHash',
  'consentId',
  'submissionId',
  'requestId',
  'nonce',
  'escrowJobId',
  'threshold',
  'state',
  'errorCode',
  'createdAt',
  'updatedAt',
  'decryptionKey',
  'claimedBy',
  'leaseUntil',
] as const;

/** Statements built by drizzle: whole rows, or the writes of acceptance and completion. */
export function prepareQueries(db: SqliteDb) {
  return {
    lenderByKeyHash: db
      .select()
      .from(t.lenders)
      .where(eq(t.lenders.keyHash, p('keyHash')))
      .prepare(),
    submission: db
      .select()
      .from(t.submissions)
      .where(eq(t.submissions.id, p('id')))
      .prepare(),
    consent: db
      .select()
      .from(t.consents)
      .where(eq(t.consents.id, p('id')))
      .prepare(),
    jobByIdem: db
      .select()
      .from(t.jobs)
      .where(and(eq(t.jobs.lenderId, p('lenderId')), eq(t.jobs.idempotencyKey, p('key'))))
      .prepare(),
    job: db
      .select()
      .from(t.jobs)
      .where(eq(t.jobs.id, p('id')))
      .prepare(),
    // Only the idempotency key's conflict is absorbed; any other (a request id taken) still fails the acceptance.
    jobInsert: db
      .insert(t.jobs)
      .values(placeholders(JOB_COLS))
      .onConflictDoNothing({ target: [t.jobs.lenderId, t.jobs.idempotencyKey] })
      .prepare(),
    lastLeaf: db
      .select({ idx: t.results.logIndex })
      .from(t.results)
      .where(eq(t.results.logId, p('logId')))
      .orderBy(desc(t.results.logIndex))
      .limit(1)
      .prepare(),
    resultInsert: db
      .insert(t.results)
      .values(placeholders(['logId', 'logIndex', 'jobId', 'structHash', 'attestation', 'headId']))
      .prepare(),
    headInsert: db
      .insert(t.resultHeads)
      .values({ head: p('head') })
      .returning({ id: t.resultHeads.id })
      .prepare(),
    jobDone: db
      .update(t.jobs)
      .set({
        state: 'done',
        updatedAt: p('now') as never,
        logId: p('logId') as never,
        logIndex: p('logIndex') as never,
      })
      .where(and(eq(t.jobs.id, p('id')), sql`${t.jobs.state} = 'accepted'`))
      .prepare(),
    result: db
      .select({
        jobId: t.results.jobId,
        attestation: t.results.attestation,
        logId: t.results.logId,
        logIndex: t.results.logIndex,
        head: t.resultHeads.head,
      })
      .from(t.jobs)
      .innerJoin(t.results, and(eq(t.results.logId, t.jobs.logId), eq(t.results.logIndex, t.jobs.logIndex)))
      .leftJoin(t.resultHeads, eq(t.resultHeads.id, t.results.headId))
      .where(eq(t.jobs.id, p('id')))
      .prepare(),
  };
}

/**
 * Raw statements for the per-request reads: only the columns used. A submission row holds its ciphertext (tens of
 * kB, on overflow pages) before the columns read here, so its immutable fields are cached per process; retention
 * (the only writer of `ciphertext` after insert, through this store) clears the cache.
 */
export function prepareRawStatements(sqlite: Database.Database) {
  return {
    submissionMeta: sqlite.prepare<
      [string],
      { inputCommitment: string; nullifier: string; decryptionKey: string; live: number }
    >(
      'SELECT input_commitment AS inputCommitment, nullifier, decryption_key AS decryptionKey, ciphertext IS NOT NULL AS live FROM submissions WHERE id = ?',
    ),
    consentMeta: sqlite.prepare<[string], Omit<ConsentMeta, 'ref'> & { jws: string }>(
      'SELECT id, submission_id AS submissionId, lender_id AS lenderId, purpose, expires_at AS expiresAt, max_uses AS maxUses, jws FROM consents WHERE id = ?',
    ),
    // One use more, only while uses are left; no row back means not found or exhausted (consentExists tells which).
    consentUse: sqlite.prepare<[string], { submissionId: string }>(
      'UPDATE consents SET uses = uses + 1 WHERE id = ? AND uses < max_uses RETURNING submission_id AS submissionId',
    ),
    consentExists: sqlite.prepare<[string], { one: number }>('SELECT 1 AS one FROM consents WHERE id = ?'),
    nonceSpent: sqlite.prepare<[string, string], { one: number }>(
      'SELECT 1 AS one FROM jobs WHERE lender_id = ? AND nonce = ?',
    ),
    // The borrower's count in its window after this query: a window that has run out starts over at this one.
    borrowerCount: sqlite.prepare<[{ nullifier: string; now: number; window: number }], { count: number }>(
      `INSERT INTO borrower_queries (nullifier, window_start, count) VALUES (@nullifier, @now, 1)
       ON CONFLICT (nullifier) DO UPDATE SET
         window_start = CASE WHEN window_start + @window <= @now THEN @now ELSE window_start END,
         count = CASE WHEN window_start + @window <= @now THEN 1 ELSE count + 1 END
       RETURNING count`,
    ),
  };
}

export type SqliteQueries = ReturnType<typeof prepareQueries>;
export type SqliteRawStatements = ReturnType<typeof prepareRawStatements>;
/** Both sets, as the method groups take them. */
export type SqliteStatements = { q: SqliteQueries; raw: SqliteRawStatements };

export const prepareStatements = (db: SqliteDb, sqlite: Database.Database): SqliteStatements => ({
  q: prepareQueries(db),
  raw: prepareRawStatements(sqlite),
});
