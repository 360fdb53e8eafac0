// The shared store: PostgreSQL through postgres.js, for a fleet of instances on one database. drizzle holds the
// schema, migrates, and builds the cold statements; the hot ones are fixed SQL texts the driver prepares once per
// connection, and the multi-row ones are plpgsql functions (migrations/0001_functions.sql), one round trip each:
// a turn's acceptances, a batch's completions, a turn's rate-limit draws.
import { and, desc, eq, isNotNull, lt } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { consentRef, isErrorCode, PropsError } from '../../../protocol/index.ts';
import type {
  AcceptJobInput,
  AcceptJobOutcome,
  ClaimJobsInput,
  CompletedJob,
  ConsentMeta,
  JobKey,
  JobRow,
  LenderRow,
  ResultRow,
  Store,
  StoreEvents,
  SubmissionMeta,
  SubmissionRow,
} from '../types.ts';
import { isConnectionError, isRetriable, safeCause, sqlState, storeError, unavailable, urlSecrets } from './errors.ts';
import { DEFAULT_MIGRATION_LOCK_KEY, migratePostgres } from './migrate.ts';
import * as t from './schema.ts';

/** Unix times and log indexes are bigint columns; they are read as numbers (all stay below 2^53). */
const TYPES = {
  int8: { to: 20, from: [20], serialize: (x: number | bigint | string) => String(x), parse: (x: string) => Number(x) },
} satisfies Record<string, postgres.PostgresType>;
export type PgSql = postgres.Sql<{ int8: number }>;

export type OpenPostgresStoreOptions = {
  /** Hears the text of every statement run: for diagnostics and query-plan tests. */
  trace?: (sql: string) => void;
  /** Connections in this instance's pool (default 10). */
  max?: number;
  /** The advisory lock key instances migrate under (default: the store's own). */
  instanceLockKey?: number;
  /** Seconds to wait for a connection before the database counts as unavailable (default 5). */
  connectTimeout?: number;
};

/** Bounded caches: past the bound they start over (a miss only costs one read). */
const CACHE_MAX = 65_536;
const cacheSet = <V>(m: Map<string, V>, k: string, v: V) => {
  if (m.size >= CACHE_MAX) m.clear();
  m.set(k, v);
};

/**
 * A turn's acceptances past this many go out as several calls, side by side on the pool's connections: a call holds
 * the rows it touched (consents, borrowers) until it commits, so one long call would hold back every other
 * instance's acceptances on them.
 */
const ACCEPT_CALL_MAX = 64;
/** Tries of a transaction that lost a deadlock against another instance's (it was rolled back whole). */
const RETRIES = 3;

const JOB_COLUMNS = `id, lender_id AS "lenderId", idempotency_key AS "idempotencyKey", request_hash AS "requestHash",
  consent_id AS "consentId", submission_id AS "submissionId", request_id AS "requestId", nonce,
  escrow_job_id AS "escrowJobId", threshold, state, error_code AS "errorCode", created_at AS "createdAt",
  updated_at AS "updatedAt", decryption_key AS "decryptionKey", claimed_by AS "claimedBy", lease_until AS "leaseUntil"`;

// The hot statements, each prepared once per connection by the driver.
const Q = {
  lenderByKeyHash: `SELECT id, name, key_hash AS "keyHash", rate_per_second AS "ratePerSecond", created_at AS "createdAt"
    FROM lenders WHERE key_hash = $1`,
  submissionMeta: `SELECT input_commitment AS "inputCommitment", nullifier, decryption_key AS "decryptionKey",
    ciphertext IS NOT NULL AS live FROM submissions WHERE id = $1`,
  consentMeta: `SELECT id, submission_id AS "submissionId", lender_id AS "lenderId", purpose, expires_at AS "expiresAt",
    max_uses AS "maxUses", jws FROM consents WHERE id = $1`,
  // A scorer reads each job's submission (its ciphertext) once.
  submission: `SELECT id, ciphertext, input_commitment AS "inputCommitment", nullifier, owner_key AS "ownerKey",
    decryption_key AS "decryptionKey", created_at AS "createdAt", deleted_at AS "deletedAt" FROM submissions WHERE id = $1`,
  job: `SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`,
  jobByIdempotencyKey: `SELECT ${JOB_COLUMNS} FROM jobs WHERE lender_id = $1 AND idempotency_key = $2`,
  // Through jobs_by_lender, newest first; a page after the key (createdAt, id) compares the pair as a row.
  listJobs: `SELECT ${JOB_COLUMNS} FROM jobs WHERE lender_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
  listJobsBefore: `SELECT ${JOB_COLUMNS} FROM jobs WHERE lender_id = $1 AND (created_at, id) < ($3, $4)
    ORDER BY created_at DESC, id DESC LIMIT $2`,
  pendingJobs: `SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'accepted' ORDER BY created_at, id LIMIT $1`,
  pendingJobsAfter: `SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'accepted' AND (created_at, id) > ($2, $3)
    ORDER BY created_at, id LIMIT $1`,
  // Oldest first through jobs_claim; rows another instance is claiming right now are skipped, not waited for, so
  // two claims never return the same job and never queue behind each other.
  claimJobs: `WITH claimed AS (
      UPDATE jobs SET claimed_by = $2, lease_until = $3::bigint + $4::bigint
      WHERE id IN (
        SELECT id FROM jobs
        WHERE state = 'accepted' AND decryption_key = $1
          AND (claimed_by IS NULL OR lease_until < $3::bigint OR ($5::boolean AND claimed_by = $2))
        ORDER BY created_at, id LIMIT $6
        FOR UPDATE SKIP LOCKED)
      RETURNING ${JOB_COLUMNS})
    SELECT * FROM claimed ORDER BY "createdAt", id`,
  acceptJobs: `SELECT o_code AS code, o_created AS created, o_job AS job FROM props_accept_jobs($1::text::jsonb)`,
  completeJobs: `SELECT o_job_id AS "jobId", o_log_index AS "logIndex" FROM props_complete_jobs($1, $2, $3::text::jsonb)`,
  failJob: `WITH failed AS (
      UPDATE jobs SET state = 'failed', error_code = $2, updated_at = $3 WHERE id = $1 AND state = 'accepted' RETURNING id)
    SELECT pg_notify('props_finished', id) FROM failed`,
  takeRequests: `SELECT o_lender AS lender, o_granted AS granted FROM props_take_requests($1::text::jsonb)`,
  result: `SELECT r.job_id AS "jobId", r.attestation, r.log_id AS "logId", r.log_index AS "logIndex", h.head
    FROM results r LEFT JOIN result_heads h ON h.id = r.head_id WHERE r.job_id = $1`,
  firstValue: `INSERT INTO settings AS s (name, value) VALUES ($1, $2)
    ON CONFLICT (name) DO UPDATE SET value = s.value RETURNING s.value`,
  logLeaves: `SELECT struct_hash AS h FROM results WHERE log_id = $1 AND log_index >= $2 ORDER BY log_index`,
  // A loose index scan of each primary key: one probe per log, however many entries each holds.
  logIds: `WITH RECURSIVE
      r(id) AS (SELECT min(log_id) FROM results
        UNION ALL SELECT (SELECT min(log_id) FROM results WHERE log_id > r.id) FROM r WHERE r.id IS NOT NULL),
      h(id) AS (SELECT min(log_id) FROM tree_heads
        UNION ALL SELECT (SELECT min(log_id) FROM tree_heads WHERE log_id > h.id) FROM h WHERE h.id IS NOT NULL)
    SELECT id FROM r WHERE id IS NOT NULL UNION SELECT id FROM h WHERE id IS NOT NULL ORDER BY id`,
} as const;

/** A job as `to_jsonb(jobs)` gives it (column names as keys). */
const jobFromJson = (j: Record<string, unknown>): JobRow => ({
  id: j.id as string,
  lenderId: j.lender_id as string,
  idempotencyKey: j.idempotency_key as string,
  requestHash: j.request_hash as string,
  consentId: j.consent_id as string,
  submissionId: j.submission_id as string,
  requestId: j.request_id as string,
  nonce: j.nonce as string,
  escrowJobId: j.escrow_job_id as string | null,
  threshold: j.threshold as number,
  state: j.state as JobRow['state'],
  errorCode: j.error_code as string | null,
  createdAt: j.created_at as number,
  updatedAt: j.updated_at as number,
  decryptionKey: j.decryption_key as string,
  claimedBy: j.claimed_by as string | null,
  leaseUntil: j.lease_until as number | null,
});

/** An acceptance input as props_accept_jobs reads it: the job's columns by name, and the checks' parameters. */
const acceptInputJson = ({ job: j, now, borrowerCap, borrowerWindowSeconds }: AcceptJobInput) => ({
  id: j.id,
  lender_id: j.lenderId,
  idempotency_key: j.idempotencyKey,
  request_hash: j.requestHash,
  consent_id: j.consentId,
  submission_id: j.submissionId,
  request_id: j.requestId,
  nonce: j.nonce,
  escrow_job_id: j.escrowJobId,
  threshold: j.threshold,
  state: j.state,
  error_code: j.errorCode,
  created_at: j.createdAt,
  updated_at: j.updatedAt,
  decryption_key: j.decryptionKey,
  claimed_by: j.claimedBy,
  lease_until: j.leaseUntil,
  now,
  cap: borrowerCap,
  window: borrowerWindowSeconds,
});

/** True when a statement failed on one of the table's constraints (SQLSTATE class 23), as a duplicate does. */
const isConstraint = (e: unknown) => sqlState(e)?.startsWith('23') === true;

/**
 * Opens the store on `url` (postgres:// or postgresql://), migrating the database first under an advisory lock, so
 * that instances starting together migrate it once. A database that cannot be reached is ERR_STORE_UNAVAILABLE, one
 * migrated by newer code ERR_STORE_SCHEMA_NEWER. Errors never repeat the URL or its password.
 */
export async function openPostgresStore(url: string, opts: OpenPostgresStoreOptions = {}): Promise<Store & { readonly sql: PgSql }> {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new PropsError('ERR_STORE_URL_INVALID');
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') throw new PropsError('ERR_STORE_URL_INVALID');
  const secrets = urlSecrets(url);
  const connectTimeout = opts.connectTimeout ?? 5;
  // No `debug`: with it the driver's errors list their statement's parameters as enumerable fields.
  const options = (max: number) => ({
    max,
    connect_timeout: connectTimeout,
    onnotice: () => {},
    types: TYPES,
    // No statement here takes or returns an array, so a new connection need not first read the array types.
    fetch_types: false,
  });
  const fail = (e: unknown) => storeError(e, secrets);

  // Migrate on a connection of its own: the advisory lock belongs to the session that takes it.
  const migrator = postgres(url, options(1));
  try {
    await migratePostgres(migrator, opts.instanceLockKey ?? DEFAULT_MIGRATION_LOCK_KEY);
  } catch (e) {
    if (e instanceof PropsError) throw e;
    // Not reached or refused: unavailable here. A migration that failed on the database is the store's failure.
    const state = sqlState(e);
    if (state === undefined || isConnectionError(e)) throw unavailable(e, secrets);
    throw new PropsError('ERR_STORE_FAILED', { detail: `migration failed (${state})`, cause: safeCause(e, secrets) });
  } finally {
    await migrator.end({ timeout: 1 }).catch(() => {});
  }

  const sql: PgSql = postgres(url, options(opts.max ?? 10));
  let closed = false;
  // Every statement the store sends is counted (its round trips, for /metrics) and traced.
  let queries = 0;
  const sent = (text: string) => {
    queries++;
    opts.trace?.(text);
  };
  const db = drizzle(sql, { schema: t, logger: { logQuery: sent } });
  /** A fixed statement, prepared on each connection the first time it runs there. */
  const run = <R>(text: string, params: postgres.ParameterOrJSON<never>[]) => {
    sent(text);
    return sql.unsafe<R[]>(text, params as never, { prepare: true }).then((rows) => Array.from(rows));
  };
  /** Runs a one-statement transaction again if it lost a deadlock against another instance's. */
  const retrying = async <R>(op: () => Promise<R>): Promise<R> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (attempt >= RETRIES || !isRetriable(e)) throw e;
      }
    }
  };
  /** Every method's errors pass through here: a lost connection becomes ERR_STORE_UNAVAILABLE. */
  const guard = async <R>(op: () => Promise<R>): Promise<R> => {
    try {
      return await op();
    } catch (e) {
      throw fail(e);
    }
  };

  // Per-instance caches. Lenders are never updated; a consent's meta is immutable; a submission's meta is cached
  // only while its ciphertext is held. Retention on another instance can delete a cached one's ciphertext: acceptance
  // reads the submission in the database again, so a stale entry never lets a deleted submission be scored.
  const lenderCache = new Map<string, LenderRow>();
  const submissionMetaCache = new Map<string, SubmissionMeta>();
  const consentMetaCache = new Map<string, ConsentMeta>();

  // Job acceptance, group-committed: the acceptances requested within one event-loop turn go to the database as one
  // call of props_accept_jobs (one statement, its own transaction), which answers each in arrival order as if they
  // had run one by one; each caller hears back after the commit that made its job durable, or with its own refusal.
  type PendingAccept = { input: AcceptJobInput; resolve: (o: AcceptJobOutcome) => void; reject: (e: unknown) => void };
  let pendingAccepts: PendingAccept[] = [];
  const acceptCall = async (group: PendingAccept[]) => {
    let rows: Array<{ code: string | null; created: boolean; job: Record<string, unknown> | null }>;
    try {
      rows = await retrying(() => run(Q.acceptJobs, [JSON.stringify(group.map((a) => acceptInputJson(a.input)))]));
      if (rows.length !== group.length) throw new PropsError('ERR_STORE_FAILED', { detail: 'acceptance outcomes do not match inputs' });
    } catch (e) {
      for (const a of group) a.reject(fail(e));
      return;
    }
    group.forEach((a, i) => {
      const row = rows[i] as (typeof rows)[number];
      if (row.code !== null) a.reject(new PropsError(isErrorCode(row.code) ? row.code : 'ERR_STORE_FAILED'));
      else if (row.created) a.resolve({ job: a.input.job, created: true });
      else a.resolve({ job: jobFromJson(row.job ?? {}), created: false });
    });
  };
  // The group calls under way, which close() lets finish.
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const flushAccepts = () => {
    const group = pendingAccepts;
    pendingAccepts = [];
    for (let i = 0; i < group.length; i += ACCEPT_CALL_MAX) track(acceptCall(group.slice(i, i + ACCEPT_CALL_MAX)));
  };

  // Rate-limit draws, grouped the same way: one call of props_take_requests per turn, one row per (lender, time).
  type Draw = { lenderId: string; rate: number; now: number; waiters: Array<{ resolve: (ok: boolean) => void; reject: (e: unknown) => void }> };
  let pendingDraws = new Map<string, Draw>();
  const flushDraws = async () => {
    const draws = [...pendingDraws.values()].sort((a, b) => (a.lenderId < b.lenderId ? -1 : a.lenderId > b.lenderId ? 1 : a.now - b.now));
    pendingDraws = new Map();
    let rows: Array<{ lender: string; granted: number }>;
    try {
      const input = draws.map((d) => ({ lender: d.lenderId, rate: d.rate, asks: d.waiters.length, now: d.now }));
      rows = await retrying(() => run(Q.takeRequests, [JSON.stringify(input)]));
    } catch (e) {
      for (const d of draws) for (const w of d.waiters) w.reject(fail(e));
      return;
    }
    draws.forEach((d, i) => {
      const granted = rows[i]?.granted ?? 0;
      d.waiters.forEach((w, k) => w.resolve(k < granted));
    });
  };

  const submissionMeta = async (id: string): Promise<SubmissionMeta | undefined> => {
    const cached = submissionMetaCache.get(id);
    if (cached) return cached;
    const [row] = await run<SubmissionMeta>(Q.submissionMeta, [id]);
    if (!row) return undefined;
    if (row.live) cacheSet(submissionMetaCache, id, row);
    return row;
  };

  return {
    sql,
    shared: true,

    createLender: (row) => guard(async () => void (await db.insert(t.lenders).values(row))),
    lenderByKeyHash: (keyHash) =>
      guard(async () => {
        const cached = lenderCache.get(keyHash);
        if (cached) return cached;
        const [row] = await run<LenderRow>(Q.lenderByKeyHash, [keyHash]);
        if (row) cacheSet(lenderCache, keyHash, row);
        return row;
      }),
    takeRequest(lenderId, ratePerSecond, nowMs) {
      return new Promise<boolean>((resolve, reject) => {
        if (pendingDraws.size === 0) setImmediate(() => track(flushDraws()));
        const key = `${lenderId}\u0000${nowMs}`;
        let draw = pendingDraws.get(key);
        if (!draw) pendingDraws.set(key, (draw = { lenderId, rate: ratePerSecond, now: nowMs, waiters: [] }));
        draw.rate = ratePerSecond;
        draw.waiters.push({ resolve, reject });
      });
    },

    insertSubmission: (row) =>
      guard(async () => {
        try {
          await db.insert(t.submissions).values(row);
        } catch (e) {
          if (isConstraint(e)) throw new PropsError('ERR_SUBMISSION_DUPLICATE');
          throw e;
        }
      }),
    getSubmission: (id) => guard(async () => (await run<SubmissionRow>(Q.submission, [id]))[0]),
    submissionMeta: (id) => guard(() => submissionMeta(id)),
    liveSubmissionIds: (inputCommitment) =>
      guard(async () =>
        (
          await db
            .select({ id: t.submissions.id })
            .from(t.submissions)
            .where(and(eq(t.submissions.inputCommitment, inputCommitment), isNotNull(t.submissions.ciphertext)))
            .orderBy(desc(t.submissions.createdAt))
            .limit(16)
        ).map((r) => r.id),
      ),
    deleteCiphertexts: (before, now) =>
      guard(async () => {
        submissionMetaCache.clear();
        const deleted = await db
          .update(t.submissions)
          .set({ ciphertext: null, deletedAt: now })
          .where(and(lt(t.submissions.createdAt, before), isNotNull(t.submissions.ciphertext)))
          .returning({ id: t.submissions.id });
        return deleted.length;
      }),

    insertConsent: (row) =>
      guard(async () => {
        try {
          await db.insert(t.consents).values(row);
        } catch (e) {
          if (isConstraint(e)) throw new PropsError('ERR_CONSENT_DUPLICATE');
          throw e;
        }
      }),
    getConsent: (id) => guard(async () => (await db.select().from(t.consents).where(eq(t.consents.id, id)))[0]),
    consentMeta: (id) =>
      guard(async () => {
        let meta = consentMetaCache.get(id);
        if (!meta) {
          const [row] = await run<Omit<ConsentMeta, 'ref'> & { jws: string }>(Q.consentMeta, [id]);
          if (!row) return undefined;
          const { jws, ...rest } = row;
          meta = { ...rest, ref: consentRef(jws) };
          cacheSet(consentMetaCache, id, meta);
        }
        return meta;
      }),

    acceptJob(input) {
      return new Promise((resolve, reject) => {
        if (pendingAccepts.push({ input, resolve, reject }) === 1) setImmediate(flushAccepts);
      });
    },
    getJob: (id) => guard(async () => (await run<JobRow>(Q.job, [id]))[0]),
    jobByIdempotencyKey: (lenderId, idempotencyKey) => guard(async () => (await run<JobRow>(Q.jobByIdempotencyKey, [lenderId, idempotencyKey]))[0]),
    listJobs: (lenderId, limit, before?: JobKey) =>
      guard(() => (before ? run<JobRow>(Q.listJobsBefore, [lenderId, limit, before.createdAt, before.id]) : run<JobRow>(Q.listJobs, [lenderId, limit]))),
    pendingJobs: (limit, after?: JobKey) =>
      guard(() => (after ? run<JobRow>(Q.pendingJobsAfter, [limit, after.createdAt, after.id]) : run<JobRow>(Q.pendingJobs, [limit]))),
    claimJobs: ({ decryptionKey, owner, limit, now, leaseMs, includeOwn }: ClaimJobsInput) =>
      guard(() => retrying(() => run<JobRow>(Q.claimJobs, [decryptionKey, owner, now, leaseMs, includeOwn, limit]))),
    completeJobs: (logId, done: CompletedJob[], now) =>
      guard(async () => {
        if (done.length === 0) return [];
        return retrying(() => run<{ jobId: string; logIndex: number }>(Q.completeJobs, [logId, now, JSON.stringify(done)]));
      }),
    failJob: (id, code, now) => guard(async () => void (await run(Q.failJob, [id, code, now]))),
    getResult: (jobId) => guard(async () => (await run<ResultRow>(Q.result, [jobId]))[0]),

    logLeaves: (logId, from = 0) => guard(async () => (await run<{ h: string }>(Q.logLeaves, [logId, from])).map((r) => r.h)),
    logIds: () => guard(async () => (await run<{ id: string }>(Q.logIds, [])).map((r) => r.id)),
    putTreeHead: (logId, row) => guard(async () => void (await db.insert(t.treeHeads).values({ logId, ...row }).onConflictDoNothing())),
    treeHead: (logId, size) =>
      guard(async () => {
        const q = db
          .select({ treeSize: t.treeHeads.treeSize, rootHash: t.treeHeads.rootHash, timestamp: t.treeHeads.timestamp, jws: t.treeHeads.jws, chainSignature: t.treeHeads.chainSignature })
          .from(t.treeHeads);
        const rows =
          size === undefined
            ? await q.where(eq(t.treeHeads.logId, logId)).orderBy(desc(t.treeHeads.treeSize)).limit(1)
            : await q.where(and(eq(t.treeHeads.logId, logId), eq(t.treeHeads.treeSize, size)));
        return rows[0];
      }),

    putEvidence: (row) => guard(async () => void (await db.insert(t.evidence).values(row).onConflictDoNothing())),
    getEvidence: (digest) => guard(async () => (await db.select().from(t.evidence).where(eq(t.evidence.digest, digest)))[0]),

    watch(events: StoreEvents) {
      // The driver listens on a connection of its own and listens again by itself after that connection is lost; a
      // subscription that cannot be made (the database is down) is tried again each second.
      let stopped = false;
      const subscribed: Array<{ unlisten(): Promise<void> }> = [];
      const subscribe = (channel: string, hear: (payload: string) => void) => {
        const safely = (payload: string) => {
          try {
            hear(payload);
          } catch {
            // a listener's failure must not take the subscription down
          }
        };
        sql.listen(channel, safely).then(
          (meta) => (stopped ? void meta.unlisten().catch(() => {}) : void subscribed.push(meta)),
          () => void (!stopped && !closed && setTimeout(() => !stopped && !closed && subscribe(channel, hear), 1000).unref()),
        );
      };
      subscribe('props_accepted', (key) => events.accepted(key));
      subscribe('props_finished', (ids) => events.finished(ids.split(',')));
      return () => {
        stopped = true;
        for (const meta of subscribed.splice(0)) void meta.unlisten().catch(() => {});
      };
    },

    audit: (kind, actor, subject) => guard(async () => void (await db.insert(t.auditEvents).values({ kind, actor, subject }))),
    firstValue: (name, value) =>
      guard(async () => {
        // DO UPDATE (to the value already there) rather than DO NOTHING: it returns the row that won, even one a
        // concurrent instance committed after this statement began.
        const [row] = await run<{ value: string }>(Q.firstValue, [name, value]);
        return (row as { value: string }).value;
      }),
    queryCount: () => queries,
    async close() {
      closed = true;
      // Acceptances and draws asked for before close() go out (their flush is due this turn) and are answered.
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.allSettled([...inFlight]);
      await sql.end({ timeout: 5 });
    },
  };
}
