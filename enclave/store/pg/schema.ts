// The service's tables in PostgreSQL (drizzle, pg-core): the SQLite schema (../schema.ts) for a fleet of instances
// sharing one database — jobs carry their decryption key and lease, results are keyed per log, and the per-lender
// rate is a shared token bucket. Unix times are bigint read as numbers (seconds, or ms where the name says so).
import { sql } from 'drizzle-orm';
import {
  bigint,
  customType,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { JOB_STATES } from '../schema.ts';

/**
 * Text compared byte by byte whatever the database's locale: the columns pages are ordered by compare as they do in
 * SQLite and in JavaScript, and the same on every cluster.
 */
const bytewiseText = customType<{ data: string; driverData: string }>({ dataType: () => 'text COLLATE "C"' });

const unixTime = (name: string) => bigint(name, { mode: 'number' });

export const lenders = pgTable('lenders', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** SHA-256 of the API key; the key itself is shown once at creation and never stored. */
  keyHash: text('key_hash').notNull().unique(),
  ratePerSecond: integer('rate_per_second').notNull(),
  createdAt: unixTime('created_at').notNull(),
});

export const submissions = pgTable(
  'submissions',
  {
    id: text('id').primaryKey(),
    /** The JWE as received (ciphertext); null once retention deleted it. */
    ciphertext: text('ciphertext'),
    inputCommitment: text('input_commitment').notNull(),
    nullifier: text('nullifier').notNull(),
    /** The data owner's public JWK (consents must be signed by it). */
    ownerKey: text('owner_key').notNull(),
    /** The JWK thumbprint of the key the ciphertext is encrypted to. */
    decryptionKey: text('decryption_key').notNull(),
    createdAt: unixTime('created_at').notNull(),
    deletedAt: unixTime('deleted_at'),
  },
  (t) => [index('submissions_input_commitment').on(t.inputCommitment)],
);

export const consents = pgTable('consents', {
  id: text('id').primaryKey(),
  submissionId: text('submission_id')
    .notNull()
    .references(() => submissions.id),
  lenderId: text('lender_id').notNull(),
  purpose: text('purpose').notNull(),
  expiresAt: unixTime('expires_at').notNull(),
  maxUses: integer('max_uses').notNull(),
  uses: integer('uses').notNull().default(0),
  jws: text('jws').notNull(),
  createdAt: unixTime('created_at').notNull(),
});

export const borrowerQueries = pgTable('borrower_queries', {
  nullifier: text('nullifier').primaryKey(),
  windowStart: unixTime('window_start').notNull(),
  count: integer('count').notNull(),
});

export const jobs = pgTable(
  'jobs',
  {
    id: bytewiseText('id').primaryKey(),
    lenderId: text('lender_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestHash: text('request_hash').notNull(),
    consentId: text('consent_id').notNull(),
    submissionId: text('submission_id').notNull(),
    requestId: text('request_id').notNull(),
    nonce: text('nonce').notNull(),
    escrowJobId: text('escrow_job_id'),
    threshold: integer('threshold').notNull(),
    state: text('state', { enum: JOB_STATES }).notNull(),
    errorCode: text('error_code'),
    createdAt: unixTime('created_at').notNull(),
    updatedAt: unixTime('updated_at').notNull(),
    /** The submission's decryption key: an instance claims only the jobs it can decrypt. */
    decryptionKey: text('decryption_key').notNull(),
    /** The instance (its log id) holding the job, and until when (unix ms). */
    claimedBy: text('claimed_by'),
    leaseUntil: bigint('lease_until', { mode: 'number' }),
    /** Set when the job is done: its result's log and index there (results' key). */
    logId: text('log_id'),
    logIndex: bigint('log_index', { mode: 'number' }),
  },
  // A lender's nonce is spent by the job that carries it: jobs are never deleted, so jobs_nonce is the nonce register.
  // A request id is unique per lender, not across lenders (see ../schema.ts: a paid job's request id is its public
  // escrow job id, which another lender must not be able to squat).
  (t) => [
    uniqueIndex('jobs_idempotency').on(t.lenderId, t.idempotencyKey),
    uniqueIndex('jobs_nonce').on(t.lenderId, t.nonce),
    uniqueIndex('jobs_request').on(t.lenderId, t.requestId),
    // Only jobs still to run, per decryption key, oldest first: what an instance claims. A finished job leaves the
    // index, which stays as small as the backlog.
    index('jobs_claim').on(t.decryptionKey, t.createdAt, t.id).where(sql`${t.state} = 'accepted'`),
    index('jobs_by_lender').on(t.lenderId, t.createdAt, t.id),
  ],
);

// A batch's signed head, stored once for the batch's results rather than in each (see ../schema.ts).
export const resultHeads = pgTable('result_heads', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  head: text('head').notNull(),
});

// A result is an entry of its instance's transparency log, keyed by (log, index); a job has at most one.
export const results = pgTable(
  'results',
  {
    logId: bytewiseText('log_id').notNull(),
    logIndex: bigint('log_index', { mode: 'number' }).notNull(),
    jobId: text('job_id')
      .notNull()
      .unique()
      .references(() => jobs.id),
    /** The EIP-712 struct hash of the result's PropsResult message (the leaf data). */
    structHash: text('struct_hash').notNull(),
    attestation: text('attestation').notNull(),
    headId: bigint('head_id', { mode: 'number' }).references(() => resultHeads.id),
  },
  (t) => [primaryKey({ columns: [t.logId, t.logIndex] })],
);

export const treeHeads = pgTable(
  'tree_heads',
  {
    logId: bytewiseText('log_id').notNull(),
    treeSize: bigint('tree_size', { mode: 'number' }).notNull(),
    rootHash: text('root_hash').notNull(),
    timestamp: unixTime('timestamp').notNull(),
    jws: text('jws').notNull(),
    chainSignature: text('chain_signature').notNull(),
  },
  (t) => [primaryKey({ columns: [t.logId, t.treeSize] })],
);

/** One enclave boot's evidence, manifest and JWKS (JSON text), archived under the evidence digest. */
export const evidence = pgTable('evidence', {
  digest: text('digest').primaryKey(),
  evidence: text('evidence').notNull(),
  manifest: text('manifest').notNull(),
  jwks: text('jwks').notNull(),
  createdAt: unixTime('created_at').notNull(),
});

/** Each lender's request allowance, a token bucket every instance draws from (burst: one second's worth). */
export const lenderRate = pgTable('lender_rate', {
  lenderId: text('lender_id').primaryKey(),
  tokens: doublePrecision('tokens').notNull(),
  atMs: bigint('at_ms', { mode: 'number' }).notNull(),
});

export const auditEvents = pgTable('audit_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: unixTime('at').notNull().default(sql`extract(epoch from now())::bigint`),
  kind: text('kind').notNull(),
  actor: text('actor').notNull(),
  subject: text('subject').notNull(),
});

// Values recorded once, by the first instance to need them (a fleet's nullifier-key fingerprint).
export const settings = pgTable('settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});
