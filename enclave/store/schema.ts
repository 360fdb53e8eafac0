// The service's tables (drizzle, SQLite dialect). Nothing here holds a record in the clear: submissions keep only
// the JWE ciphertext (deleted by retention), borrowers appear only as keyed-hash nullifiers, API keys as hashes.
import { sql } from 'drizzle-orm';
import { integer, primaryKey, sqliteTable, text, uniqueIndex, index } from 'drizzle-orm/sqlite-core';

export const lenders = sqliteTable('lenders', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** SHA-256 of the API key; the key itself is shown once at creation and never stored. */
  keyHash: text('key_hash').notNull().unique(),
  ratePerSecond: integer('rate_per_second').notNull(),
  createdAt: integer('created_at').notNull(),
});

export const submissions = sqliteTable(
  'submissions',
  {
    id: text('id').primaryKey(),
    /** The JWE as received (ciphertext); null once retention deleted it. */
    ciphertext: text('ciphertext'),
    inputCommitment: text('input_commitment').notNull(),
    nullifier: text('nullifier').notNull(),
    /** The data owner's public JWK (consents must be signed by it). */
    ownerKey: text('owner_key').notNull(),
    /** JWK thumbprint of the key the ciphertext is encrypted to ('' in rows older than the column: the one instance's). */
    decryptionKey: text('decryption_key').notNull().default(''),
    createdAt: integer('created_at').notNull(),
    deletedAt: integer('deleted_at'),
  },
  (t) => [index('submissions_input_commitment').on(t.inputCommitment)],
);

export const consents = sqliteTable('consents', {
  id: text('id').primaryKey(),
  submissionId: text('submission_id')
    .notNull()
    .references(() => submissions.id),
  lenderId: text('lender_id').notNull(),
  purpose: text('purpose').notNull(),
  expiresAt: integer('expires_at').notNull(),
  maxUses: integer('max_uses').notNull(),
  uses: integer('uses').notNull().default(0),
  jws: text('jws').notNull(),
  createdAt: integer('created_at').notNull(),
});

export const borrowerQueries = sqliteTable('borrower_queries', {
  nullifier: text('nullifier').primaryKey(),
  windowStart: integer('window_start').notNull(),
  count: integer('count').notNull(),
});

export const JOB_STATES = ['accepted', 'done', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
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
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    decryptionKey: text('decryption_key').notNull().default(''),
    /** The instance holding the job while accepted (its log id), and until when (unix ms). */
    claimedBy: text('claimed_by'),
    leaseUntil: integer('lease_until'),
    /** Set when the job is done: its result's log and index there (results' key). */
    logId: text('log_id'),
    logIndex: integer('log_index'),
  },
  // Only jobs still to run are indexed by state (a restart resumes them oldest first): a finished job leaves the index
  // instead of moving within it, and the index stays as small as the backlog.
  // A lender's nonce is spent by the job that carries it: jobs are never deleted, so this index is the nonce register.
  (t) => [
    uniqueIndex('jobs_idempotency').on(t.lenderId, t.idempotencyKey),
    uniqueIndex('jobs_nonce').on(t.lenderId, t.nonce),
    // A request id is unique per lender, not across lenders: a paid job's request id is its escrow job id, which is
    // public (and sequential) on chain, so a global index let any lender claim another's escrow job id first and
    // shut that lender out of its own job. Another lender's result naming it cannot release the escrow (its terms
    // commit to the job's inputs and to a nonce only the lender and the enclave know until release), so it only has
    // to be kept from blocking the job's own lender.
    uniqueIndex('jobs_request').on(t.lenderId, t.requestId),
    // (created_at, id): the backlog is read in pages after a (created_at, id) key, as many jobs share a second.
    index('jobs_pending').on(t.createdAt, t.id).where(sql`${t.state} = 'accepted'`),
    // A lender's job list, newest first (GET /v1/jobs).
    index('jobs_by_lender').on(t.lenderId, t.createdAt, t.id),
  ],
);

// The signed head of a batch of results (a JWS over the batch's Merkle root), stored once for the batch's results
// rather than inside each: 761 of a batched result's ~2,050 bytes (batches of 16–64), and without it two results
// fit in a page.
export const resultHeads = sqliteTable('result_heads', {
  id: integer('id').primaryKey(),
  head: text('head').notNull(),
});

// A result is its transparency-log entry: keyed by its log (the id of the instance that scored it, its on-chain key
// id) and its index there. A job finds its result through jobs.(log_id, log_index), set in the same statement that
// marks the job done — which happens once per job, so no index on job_id is needed to keep a job to one result.
// A batched result's attestation is stored without its batch's head, which `head_id` names. Rows older than the log
// column have log_id '' and belong to the log of the one instance that opens the database next.
export const results = sqliteTable(
  'results',
  {
    logId: text('log_id').notNull().default(''),
    logIndex: integer('log_index').notNull(),
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id),
    /** The EIP-712 struct hash of the result's PropsResult message (the leaf data). */
    structHash: text('struct_hash').notNull(),
    attestation: text('attestation').notNull(),
    headId: integer('head_id').references(() => resultHeads.id),
  },
  (t) => [primaryKey({ columns: [t.logId, t.logIndex] })],
);

export const treeHeads = sqliteTable(
  'tree_heads',
  {
    logId: text('log_id').notNull().default(''),
    treeSize: integer('tree_size').notNull(),
    rootHash: text('root_hash').notNull(),
    timestamp: integer('timestamp').notNull(),
    jws: text('jws').notNull(),
    chainSignature: text('chain_signature').notNull(),
  },
  (t) => [primaryKey({ columns: [t.logId, t.treeSize] })],
);

// Every enclave boot's evidence, manifest and JWKS, once, by evidence digest: a result names the digest of the
// evidence it was signed under, and its bundle packs that evidence after any restart.
export const evidence = sqliteTable('evidence', {
  digest: text('digest').primaryKey(),
  evidence: text('evidence').notNull(),
  manifest: text('manifest').notNull(),
  jwks: text('jwks').notNull(),
  createdAt: integer('created_at').notNull(),
});

export const auditEvents = sqliteTable('audit_events', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  at: integer('at').notNull().default(sql`(unixepoch())`),
  kind: text('kind').notNull(),
  actor: text('actor').notNull(),
  subject: text('subject').notNull(),
});

// Values recorded once, by the first process to need them (a fleet's nullifier-key fingerprint).
export const settings = sqliteTable('settings', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});
