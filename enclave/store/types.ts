// The store interface the service depends on. SQLite (embedded default, one process) and PostgreSQL (a fleet of
// processes on one database) implement it with the same behaviour (store/behaviour.test.ts runs against both).
// Every cross-request invariant (consent uses, borrower caps, nonces, idempotency keys, exactly-once completion, the
// per-lender rate) is enforced by the database — a constraint or a transaction — never by one process's memory.
import type { CountersBehind } from './counters.ts';
import type { JobState } from './schema.ts';

export type LenderRow = { id: string; name: string; keyHash: string; ratePerSecond: number; createdAt: number };
export type SubmissionRow = {
  id: string;
  ciphertext: string | null;
  inputCommitment: string;
  nullifier: string;
  ownerKey: string;
  /** Which decryption key the ciphertext is encrypted to (its JWK thumbprint): only a holder of it can score it. */
  decryptionKey: string;
  createdAt: number;
  deletedAt: number | null;
};
/** A submission's immutable public fields and whether its ciphertext is still held (not deleted by retention). */
export type SubmissionMeta = { inputCommitment: string; nullifier: string; decryptionKey: string; live: boolean };
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
  /** The submission's decryption key: the jobs an instance claims are those it can decrypt. */
  decryptionKey: string;
  /** The instance (its log id) holding the job while it is accepted, and until when (unix ms); null: unclaimed. */
  claimedBy: string | null;
  leaseUntil: number | null;
};
/** A stored result: its log (the log id of the instance that scored it) and index there; `head`: see `CompletedJob`. */
export type ResultRow = { jobId: string; attestation: string; logId: string; logIndex: number; head: string | null };
export type TreeHeadRow = {
  treeSize: number;
  rootHash: string;
  timestamp: number;
  jws: string;
  chainSignature: string;
};
/** One enclave boot's evidence, manifest and JWKS (JSON text each), archived under the evidence digest. */
export type EvidenceRow = { digest: string; evidence: string; manifest: string; jwks: string; createdAt: number };

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

export type ClaimJobsInput = {
  /** Only jobs whose submission is encrypted to this key. */
  decryptionKey: string;
  /** The claiming instance (its log id). */
  owner: string;
  limit: number;
  /** Unix ms; the claim lasts until now + leaseMs. */
  now: number;
  leaseMs: number;
  /** Also take jobs `owner` holds under a lease not yet run out (a restarted instance takes back its own). */
  includeOwn: boolean;
};

/** A page key: jobs are ordered by (createdAt, id). */
export type JobKey = Pick<JobRow, 'createdAt' | 'id'>;

/** What a shared store tells every instance: jobs accepted for a decryption key, jobs finished (done or failed). */
export type StoreEvents = { accepted(decryptionKey: string): void; finished(jobIds: string[]): void };

export interface Store {
  /** True when other processes share the database (jobs must be claimed, waiters hear of jobs done elsewhere). */
  readonly shared: boolean;

  createLender(row: LenderRow): Promise<void>;
  lenderByKeyHash(keyHash: string): Promise<LenderRow | undefined>;
  /**
   * Takes one request from the lender's allowance of `ratePerSecond` (burst: one second's worth), shared by every
   * process on the store; false when none is left.
   */
  takeRequest(lenderId: string, ratePerSecond: number, nowMs: number): boolean | Promise<boolean>;

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

  /**
   * Idempotent on (lender, idempotency key): a repeat returns the stored job with created=false. The job row goes in
   * first and the unique index decides, so concurrent retries spend no consent use without a job.
   */
  acceptJob(input: AcceptJobInput): Promise<AcceptJobOutcome>;
  getJob(id: string): Promise<JobRow | undefined>;
  jobByIdempotencyKey(lenderId: string, idempotencyKey: string): Promise<JobRow | undefined>;
  /** The lender's jobs, newest first by (createdAt, id); `before`: only those older than that key (the next page). */
  listJobs(lenderId: string, limit: number, before?: JobKey): Promise<JobRow[]>;
  /** Jobs still accepted, oldest first by (createdAt, id); `after`: only those past that key (the next page). */
  pendingJobs(limit: number, after?: JobKey): Promise<JobRow[]>;
  /**
   * Leases accepted jobs to `owner`, oldest first: unclaimed ones, ones whose lease ran out (their instance died or
   * stalled) and, with `includeOwn`, the owner's own. Two instances never get the same job under a live lease.
   */
  claimJobs(input: ClaimJobsInput): Promise<JobRow[]>;
  /**
   * Atomically, for each job still accepted: appends its leaf at the next index of log `logId`, stores its result
   * and marks it done. Jobs no longer accepted are skipped, so a retry after a crash, or a second instance finishing
   * a job whose lease it took over, never duplicates a result or a leaf.
   */
  completeJobs(logId: string, done: CompletedJob[], now: number): Promise<Array<{ jobId: string; logIndex: number }>>;
  failJob(id: string, code: string, now: number): Promise<void>;
  getResult(jobId: string): Promise<ResultRow | undefined>;

  /** Leaf data of log `logId` from index `from` (default 0) on, in order. */
  logLeaves(logId: string, from?: number): Promise<string[]>;
  /** Every log id the store holds results or heads for. */
  logIds(): Promise<string[]>;
  putTreeHead(logId: string, row: TreeHeadRow): Promise<void>;
  /** The head of log `logId` at `size`, or its largest. */
  treeHead(logId: string, size?: number): Promise<TreeHeadRow | undefined>;

  /** Archives a boot's evidence once (a repeat of the same digest is a no-op). */
  putEvidence(row: EvidenceRow): Promise<void>;
  getEvidence(digest: string): Promise<EvidenceRow | undefined>;

  /** Subscribes to other instances' events (a store no other process shares never calls them); returns unsubscribe. */
  watch(events: StoreEvents): () => void;

  audit(kind: string, actor: string, subject: string): Promise<void>;
  /** Records `value` under `name` unless one is there already; returns the value stored (the first writer's). */
  firstValue(name: string, value: string): Promise<string>;
  /** Consent and borrower counts below the jobs they counted (enclave/store/counters.ts): a rollback of those rows. */
  countersBehindJobs(now: number, windowSeconds: number): Promise<CountersBehind>;
  /** Statements sent to a database server so far (its round trips), for /metrics; an embedded store has none. */
  queryCount?(): number;
  close(): Promise<void>;
}
