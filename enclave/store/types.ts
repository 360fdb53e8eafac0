// The store interface the service depends on: SQLite (embedded default) implements it; a PostgreSQL backend
// (drizzle's pg driver) can implement the same methods to let several instances share one database.
import type { JobState } from './schema.ts';

export type LenderRow = { id: string; name: string; keyHash: string; ratePerSecond: number; createdAt: number };
export type SubmissionRow = {
  id: string;
  ciphertext: string | null;
  inputCommitment: string;
  nullifier: string;
  ownerKey: string;
  createdAt: number;
  deletedAt: number | null;
};
/** A submission's immutable public fields and whether its ciphertext is still held (not deleted by retention). */
export type SubmissionMeta = { inputCommitment: string; nullifier: string; live: boolean };
export type ConsentRow = {
  id: string;
  submissionId: string;
  lenderId: string;
  purpose: string;
  expiresAt: number;
  maxUses: number;
  uses: number;
  jws: string;
  createdAt: number;
};
/**
 * A consent's fields that never change once registered (everything but its use count), and `ref`: the
 * `consentRef` of its exact JWS (protocol/oracle.ts), what a result names the consent by.
 */
export type ConsentMeta = Omit<ConsentRow, 'uses' | 'jws' | 'createdAt'> & { ref: string };
export type JobRow = {
  id: string;
  lenderId: string;
  idempotencyKey: string;
  requestHash: string;
  consentId: string;
  submissionId: string;
  requestId: string;
  nonce: string;
  escrowJobId: string | null;
  threshold: number;
  state: JobState;
  errorCode: string | null;
  createdAt: number;
  updatedAt: number;
};
/** A stored result; `head` is a batched result's batch head, left out of `attestation` (see `CompletedJob`). */
export type ResultRow = { jobId: string; attestation: string; logIndex: number; head: string | null };
export type TreeHeadRow = { treeSize: number; rootHash: string; timestamp: number; jws: string; chainSignature: string };

/** Everything one job acceptance must check and write atomically (consent use, borrower cap, nonce, job row). */
export type AcceptJobInput = {
  job: JobRow;
  now: number;
  borrowerCap: number;
  borrowerWindowSeconds: number;
};
export type AcceptJobOutcome = { job: JobRow; created: boolean };

/**
 * A finished job's result: its attestation (JSON text) and log leaf datum. For a batched result, `head` is its
 * batch's signed head and `attestation` the result without it: the store keeps each head once, not in every result
 * of its batch, and `getResult` hands it back beside the attestation.
 */
export type CompletedJob = { jobId: string; attestation: string; structHash: string; head?: string };

export interface Store {
  createLender(row: LenderRow): Promise<void>;
  lenderByKeyHash(keyHash: string): Promise<LenderRow | undefined>;

  insertSubmission(row: SubmissionRow): Promise<void>;
  getSubmission(id: string): Promise<SubmissionRow | undefined>;
  /** The submission without its ciphertext (the hot path needs only these). */
  submissionMeta(id: string): Promise<SubmissionMeta | undefined>;
  /** Ids of the submissions still holding their ciphertext for these inputs, newest first (consents name inputs). */
  liveSubmissionIds(inputCommitment: string): Promise<string[]>;
  /** Deletes ciphertexts received before `before` (unix s); returns how many. */
  deleteCiphertexts(before: number, now: number): Promise<number>;

  insertConsent(row: ConsentRow): Promise<void>;
  getConsent(id: string): Promise<ConsentRow | undefined>;
  /** The consent without its JWS and use count (immutable, so cacheable). */
  consentMeta(id: string): Promise<ConsentMeta | undefined>;

  /** Idempotent on (lender, idempotency key): a repeat returns the stored job with created=false. */
  acceptJob(input: AcceptJobInput): Promise<AcceptJobOutcome>;
  getJob(id: string): Promise<JobRow | undefined>;
  /** Jobs still accepted, oldest first by (createdAt, id); `after`: only those past that key (the next page). */
  pendingJobs(limit: number, after?: Pick<JobRow, 'createdAt' | 'id'>): Promise<JobRow[]>;
  /**
   * Atomically, for each job still pending: appends its log leaf at the next index, stores its result and marks
   * it done. Jobs already done are skipped, so a retry after a crash never duplicates a result or a leaf.
   */
  completeJobs(done: CompletedJob[], now: number): Promise<Array<{ jobId: string; logIndex: number }>>;
  failJob(id: string, code: string, now: number): Promise<void>;
  getResult(jobId: string): Promise<ResultRow | undefined>;

  logLeaves(): Promise<string[]>;
  putTreeHead(row: TreeHeadRow): Promise<void>;
  treeHead(size?: number): Promise<TreeHeadRow | undefined>;

  audit(kind: string, actor: string, subject: string): Promise<void>;
  close(): void;
}
