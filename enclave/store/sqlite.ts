// The embedded store: drizzle-orm over better-sqlite3 in WAL mode, migrated from the committed drizzle-kit SQL.
// better-sqlite3 is synchronous, so each method's transaction is atomic with respect to the event loop too.
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { and, asc, desc, eq, gt, gte, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { consentRef, PropsError } from '../../protocol/index.ts';
import { startCheckpointer, type Checkpointer } from './checkpointer.ts';
import * as t from './schema.ts';
import type { AcceptJobInput, AcceptJobOutcome, CompletedJob, ConsentMeta, Store, SubmissionMeta, TreeHeadRow } from './types.ts';
import { tokenBuckets } from './token-bucket.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/** Bounded caches: past the bound they start over (a miss only costs one read). */
const CACHE_MAX = 65_536;
const cacheSet = <V>(m: Map<string, V>, k: string, v: V) => {
  if (m.size >= CACHE_MAX) m.clear();
  m.set(k, v);
};

const isUnique = (e: unknown) => (e as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true;

/** `trace` hears the text of every statement run (better-sqlite3's `verbose`): for diagnostics and query-plan tests. */
export function openSqliteStore(file = ':memory:', opts: { trace?: (sql: string) => void } = {}): Store & { readonly sqlite: Database.Database } {
  const sqlite = new Database(file, opts.trace ? { verbose: (sql) => opts.trace?.(String(sql)) } : {});
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL'); // WAL + NORMAL: a crash of the process loses nothing committed
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('secure_delete = ON'); // deleted ciphertexts are overwritten, not left in free pages
  // Each job acceptance runs in a savepoint, whose statement journal SQLite otherwise keeps in a temporary file: a
  // few kernel writes per job. In memory they cost a copy: 6–13 % less store time per job (bench/store.ts).
  sqlite.pragma('temp_store = MEMORY');
  const db: BetterSQLite3Database<typeof t> = drizzle(sqlite, { schema: t });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  // A file database checkpoints its WAL from a worker thread, not on the committing event loop (checkpointer.ts).
  let checkpointer: Checkpointer | undefined;
  if (file !== ':memory:' && file !== '' && sqlite.pragma('journal_mode', { simple: true }) === 'wal') {
    // Backstop. The WAL restarts from its start only when a write transaction begins with every frame copied, and
    // under sustained writes the worker's checkpoints (two fsyncs each) never quite catch up with commits a few ms
    // apart: then the writer checkpoints itself once the WAL passes this many pages — copying the few frames the
    // worker has not, but syncing the WAL and the database on the event loop, a 15–40 ms stall (`perf trace` under
    // load). At 8,192 pages that came every ~1.3 s under load here; at 65,536 (a WAL of up to 256 MB) 8 times as rarely.
    sqlite.pragma('wal_autocheckpoint = 65536');
    checkpointer = startCheckpointer(file);
  }


  // Hot-path statements are prepared once (drizzle builds and SQLite compiles them a single time), so a score
  // request costs a few statement executions, not a few query compilations.
  const p = (name: string) => sql.placeholder(name);
  const placeholders = (cols: readonly string[]) => Object.fromEntries(cols.map((c) => [c, p(c)])) as never;
  const JOB_COLS = ['id', 'lenderId', 'idempotencyKey', 'requestHash', 'consentId', 'submissionId', 'requestId', 'nonce', 'escrowJobId', 'threshold', 'state', 'errorCode', 'createdAt', 'updatedAt', 'decryptionKey', 'claimedBy', 'leaseUntil'] as const;
  const q = {
    lenderByKeyHash: db.select().from(t.lenders).where(eq(t.lenders.keyHash, p('keyHash'))).prepare(),
    submission: db.select().from(t.submissions).where(eq(t.submissions.id, p('id'))).prepare(),
    consent: db.select().from(t.consents).where(eq(t.consents.id, p('id'))).prepare(),
    jobByIdem: db.select().from(t.jobs).where(and(eq(t.jobs.lenderId, p('lenderId')), eq(t.jobs.idempotencyKey, p('key')))).prepare(),
    job: db.select().from(t.jobs).where(eq(t.jobs.id, p('id'))).prepare(),
    // Only the idempotency key's conflict is absorbed; any other (a request id taken) still fails the acceptance.
    jobInsert: db.insert(t.jobs).values(placeholders(JOB_COLS)).onConflictDoNothing({ target: [t.jobs.lenderId, t.jobs.idempotencyKey] }).prepare(),
    lastLeaf: db.select({ idx: t.results.logIndex }).from(t.results).where(eq(t.results.logId, p('logId'))).orderBy(desc(t.results.logIndex)).limit(1).prepare(),
    resultInsert: db.insert(t.results).values(placeholders(['logId', 'logIndex', 'jobId', 'structHash', 'attestation', 'headId'])).prepare(),
    headInsert: db.insert(t.resultHeads).values({ head: p('head') }).returning({ id: t.resultHeads.id }).prepare(),
    jobDone: db
      .update(t.jobs)
      .set({ state: 'done', updatedAt: p('now') as never, logId: p('logId') as never, logIndex: p('logIndex') as never })
      .where(and(eq(t.jobs.id, p('id')), sql`${t.jobs.state} = 'accepted'`))
      .prepare(),
    result: db
      .select({ jobId: t.results.jobId, attestation: t.results.attestation, logId: t.results.logId, logIndex: t.results.logIndex, head: t.resultHeads.head })
      .from(t.jobs)
      .innerJoin(t.results, and(eq(t.results.logId, t.jobs.logId), eq(t.results.logIndex, t.jobs.logIndex)))
      .leftJoin(t.resultHeads, eq(t.resultHeads.id, t.results.headId))
      .where(eq(t.jobs.id, p('id')))
      .prepare(),
  };
  // Raw statements for the per-request reads: only the columns used. A submission row holds its ciphertext (tens of
  // kB, on overflow pages) before the columns read here, so its immutable fields are cached per process; retention
  // (the only writer of `ciphertext` after insert, through this store) clears the cache.
  const raw = {
    submissionMeta: sqlite.prepare<[string], { inputCommitment: string; nullifier: string; decryptionKey: string; live: number }>(
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
    nonceSpent: sqlite.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM jobs WHERE lender_id = ? AND nonce = ?'),
    // The borrower's count in its window after this query: a window that has run out starts over at this one.
    borrowerCount: sqlite.prepare<[{ nullifier: string; now: number; window: number }], { count: number }>(
      `INSERT INTO borrower_queries (nullifier, window_start, count) VALUES (@nullifier, @now, 1)
       ON CONFLICT (nullifier) DO UPDATE SET
         window_start = CASE WHEN window_start + @window <= @now THEN @now ELSE window_start END,
         count = CASE WHEN window_start + @window <= @now THEN 1 ELSE count + 1 END
       RETURNING count`,
    ),
  };
  const submissionMetaCache = new Map<string, SubmissionMeta>();
  // Consents are never updated but for their use count, nor deleted.
  const consentMetaCache = new Map<string, ConsentMeta>();
  const submissionMeta = (id: string): SubmissionMeta | undefined => {
    const cached = submissionMetaCache.get(id);
    if (cached) return cached;
    const row = raw.submissionMeta.get(id);
    if (!row) return undefined;
    const meta = { inputCommitment: row.inputCommitment, nullifier: row.nullifier, decryptionKey: row.decryptionKey, live: row.live === 1 };
    // Only a live submission is cached: a deleted ciphertext never comes back.
    if (meta.live) cacheSet(submissionMetaCache, id, meta);
    return meta;
  };

  // Job acceptance, group-committed: the acceptances requested within one event-loop turn run in one transaction,
  // each inside its own savepoint, so each is still atomic and refused with its own error (a refused one leaves no
  // trace), in arrival order, and each caller hears back only after the commit that made its job durable.
  // Three statements for a new job: the job row first, which also spends the lender's nonce (a unique index on jobs)
  // unless its idempotency key is taken (then nothing is written and the stored job answers); then the consent's use
  // and the borrower's count, each bumped by one statement that also answers whether the bump was allowed. Refusals
  // come in that order (idempotency, nonce or escrow job, consent, submission, borrower cap); a refusal after the
  // job row went in undoes it with the savepoint.
  const acceptOne = sqlite.transaction(({ job, now, borrowerCap, borrowerWindowSeconds }: AcceptJobInput): AcceptJobOutcome => {
    let inserted: number;
    try {
      inserted = q.jobInsert.run(job).changes;
    } catch (e) {
      if (!isUnique(e)) throw e;
      if (raw.nonceSpent.get(job.lenderId, job.nonce)) throw new PropsError('ERR_NONCE_REPLAYED');
      // A paid job's request id is its escrow job id: one scoring job per escrow job and lender.
      if (job.escrowJobId !== null) throw new PropsError('ERR_ESCROW_JOB_TAKEN');
      throw e;
    }
    if (inserted !== 1) {
      const existing = q.jobByIdem.get({ lenderId: job.lenderId, key: job.idempotencyKey });
      if (!existing) throw new PropsError('ERR_STORE_FAILED', { detail: 'idempotent job vanished' });
      if (existing.requestHash !== job.requestHash) throw new PropsError('ERR_IDEMPOTENCY_CONFLICT');
      return { job: existing, created: false };
    }
    const consent = raw.consentUse.get(job.consentId);
    if (!consent) throw new PropsError(raw.consentExists.get(job.consentId) ? 'ERR_CONSENT_EXHAUSTED' : 'ERR_CONSENT_NOT_FOUND');
    const sub = submissionMeta(consent.submissionId);
    if (!sub || !sub.live) throw new PropsError('ERR_SUBMISSION_NOT_FOUND');
    const borrower = raw.borrowerCount.get({ nullifier: sub.nullifier, now, window: borrowerWindowSeconds });
    if (!borrower || borrower.count > borrowerCap) throw new PropsError('ERR_BORROWER_QUERY_CAP');
    return { job, created: true };
  });
  type PendingAccept = { input: AcceptJobInput; resolve: (o: AcceptJobOutcome) => void; reject: (e: unknown) => void };
  type Outcome = { ok: true; value: AcceptJobOutcome } | { ok: false; error: unknown };
  let pendingAccepts: PendingAccept[] = [];
  const acceptGroup = sqlite.transaction((group: PendingAccept[]): Outcome[] =>
    group.map((a): Outcome => {
      try {
        return { ok: true, value: acceptOne(a.input) }; // nested: a savepoint
      } catch (error) {
        // An error that aborted the whole transaction (I/O, full disk) fails the group: nothing was committed.
        if (!sqlite.inTransaction) throw error;
        return { ok: false, error };
      }
    }),
  );
  const flushAccepts = () => {
    const group = pendingAccepts;
    pendingAccepts = [];
    let outcomes: Outcome[];
    try {
      outcomes = acceptGroup(group);
    } catch (e) {
      for (const a of group) a.reject(e);
      return;
    }
    group.forEach((a, i) => {
      const o = outcomes[i] as Outcome;
      if (o.ok) a.resolve(o.value);
      else a.reject(o.error);
    });
  };

  // Rows written before results had a log column belong to the log of the one instance that held the database: the
  // first log id the store is asked about adopts them (a fleet never shares an embedded database).
  let legacyAdopted = false;
  const adoptLegacyLog = (logId: string) => {
    if (legacyAdopted) return;
    legacyAdopted = true;
    sqlite.transaction(() => {
      sqlite.prepare("UPDATE results SET log_id = ? WHERE log_id = ''").run(logId);
      sqlite.prepare("UPDATE tree_heads SET log_id = ? WHERE log_id = ''").run(logId);
      sqlite.prepare("UPDATE jobs SET log_id = ? WHERE log_id = ''").run(logId);
    })();
  };
  // The per-lender rate: the only process on the database keeps its buckets in memory.
  const buckets = tokenBuckets();

  return {
    sqlite,
    shared: false,
    takeRequest: buckets.take,
    async createLender(row) {
      db.insert(t.lenders).values(row).run();
    },
    async lenderByKeyHash(keyHash) {
      return q.lenderByKeyHash.get({ keyHash });
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
      return q.submission.get({ id });
    },
    async liveSubmissionIds(inputCommitment) {
      // Consent registration only (not a per-score path).
      return db
        .select({ id: t.submissions.id })
        .from(t.submissions)
        .where(and(eq(t.submissions.inputCommitment, inputCommitment), isNotNull(t.submissions.ciphertext)))
        .orderBy(desc(t.submissions.createdAt))
        .limit(16)
        .all()
        .map((r) => r.id);
    },
    async submissionMeta(id) {
      return submissionMeta(id);
    },
    async deleteCiphertexts(before, now) {
      submissionMetaCache.clear();
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
    async consentMeta(id) {
      let meta = consentMetaCache.get(id);
      if (!meta) {
        const row = raw.consentMeta.get(id);
        if (!row) return undefined;
        const { jws, ...rest } = row;
        meta = { ...rest, ref: consentRef(jws) };
        cacheSet(consentMetaCache, id, meta);
      }
      return meta;
    },
    async getConsent(id) {
      return q.consent.get({ id });
    },
    acceptJob(input: AcceptJobInput): Promise<AcceptJobOutcome> {
      return new Promise((resolve, reject) => {
        if (pendingAccepts.push({ input, resolve, reject }) === 1) setImmediate(flushAccepts);
      });
    },
    async getJob(id) {
      return q.job.get({ id });
    },
    async jobByIdempotencyKey(lenderId, key) {
      return q.jobByIdem.get({ lenderId, key });
    },
    async listJobs(lenderId, limit, before) {
      const mine = eq(t.jobs.lenderId, lenderId);
      const where = before
        ? and(mine, or(lt(t.jobs.createdAt, before.createdAt), and(eq(t.jobs.createdAt, before.createdAt), lt(t.jobs.id, before.id))))
        : mine;
      return db.select().from(t.jobs).where(where).orderBy(desc(t.jobs.createdAt), desc(t.jobs.id)).limit(limit).all();
    },
    async claimJobs({ decryptionKey, owner, limit, now, leaseMs, includeOwn }) {
      // One process holds an embedded database, so a read and an update in one transaction is a claim.
      return db.transaction(() => {
        const free = or(isNull(t.jobs.claimedBy), lt(t.jobs.leaseUntil, now), includeOwn ? eq(t.jobs.claimedBy, owner) : sql`0`);
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
        ? and(accepted, or(gt(t.jobs.createdAt, after.createdAt), and(eq(t.jobs.createdAt, after.createdAt), gt(t.jobs.id, after.id))))
        : accepted;
      return db.select().from(t.jobs).where(where).orderBy(asc(t.jobs.createdAt), asc(t.jobs.id)).limit(limit).all();
    },
    async completeJobs(logId, done: CompletedJob[], now) {
      if (done.length === 0) return [];
      adoptLegacyLog(logId);
      return db.transaction(() => {
        const out: Array<{ jobId: string; logIndex: number }> = [];
        const last = q.lastLeaf.get({ logId });
        let next = last ? last.idx + 1 : 0;
        // Each batch head once, stored when the first of its results is.
        const headIds = new Map<string, number>();
        const headId = (head: string): number => {
          let id = headIds.get(head);
          if (id === undefined) headIds.set(head, (id = (q.headInsert.get({ head }) as { id: number }).id));
          return id;
        };
        for (const d of done) {
          // Only a job still accepted moves to done (one that is done or failed, or repeated in `done`, changes
          // nothing) and only that one gets its result, the log entry at the index it now names.
          if (q.jobDone.run({ id: d.jobId, now, logId, logIndex: next }).changes !== 1) continue;
          const logIndex = next++;
          q.resultInsert.run({ logId, logIndex, jobId: d.jobId, structHash: d.structHash, attestation: d.attestation, headId: d.head === undefined ? null : headId(d.head) });
          out.push({ jobId: d.jobId, logIndex });
        }
        return out;
      });
    },
    async failJob(id, code, now) {
      db.update(t.jobs).set({ state: 'failed', errorCode: code, updatedAt: now }).where(and(eq(t.jobs.id, id), eq(t.jobs.state, 'accepted'))).run();
    },
    async getResult(jobId) {
      return q.result.get({ id: jobId });
    },
    async logLeaves(logId, from = 0) {
      adoptLegacyLog(logId);
      return db
        .select({ h: t.results.structHash })
        .from(t.results)
        .where(and(eq(t.results.logId, logId), gte(t.results.logIndex, from)))
        .orderBy(asc(t.results.logIndex))
        .all()
        .map((r) => r.h);
    },
    async logIds() {
      const rows = sqlite.prepare<[], { id: string }>("SELECT log_id AS id FROM results WHERE log_id <> '' UNION SELECT log_id FROM tree_heads WHERE log_id <> '' ORDER BY 1").all();
      return rows.map((r) => r.id);
    },
    async putTreeHead(logId, row: TreeHeadRow) {
      adoptLegacyLog(logId);
      db.insert(t.treeHeads).values({ logId, ...row }).onConflictDoNothing().run();
    },
    async treeHead(logId, size) {
      adoptLegacyLog(logId);
      const cols = { treeSize: t.treeHeads.treeSize, rootHash: t.treeHeads.rootHash, timestamp: t.treeHeads.timestamp, jws: t.treeHeads.jws, chainSignature: t.treeHeads.chainSignature };
      const q = db.select(cols).from(t.treeHeads);
      return size === undefined
        ? q.where(eq(t.treeHeads.logId, logId)).orderBy(desc(t.treeHeads.treeSize)).limit(1).get()
        : q.where(and(eq(t.treeHeads.logId, logId), eq(t.treeHeads.treeSize, size))).get();
    },
    async putEvidence(row) {
      db.insert(t.evidence).values(row).onConflictDoNothing().run();
    },
    async getEvidence(digest) {
      return db.select().from(t.evidence).where(eq(t.evidence.digest, digest)).get();
    },
    watch() {
      // No other process shares an embedded database.
      return () => {};
    },
    async firstValue(name, value) {
      db.insert(t.settings).values({ name, value }).onConflictDoNothing().run();
      return (db.select({ value: t.settings.value }).from(t.settings).where(eq(t.settings.name, name)).get() as { value: string }).value;
    },
    async audit(kind, actor, subject) {
      db.insert(t.auditEvents).values({ kind, actor, subject }).run();
    },
    async close() {
      checkpointer?.stop();
      sqlite.close();
    },
  };
}
