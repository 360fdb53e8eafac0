// What the scoring service is built from, injected so the model, the oracle's ingest and consent checks, the store
// and the clock can be swapped: tests pass doubles, `props serve` passes the defaults.
import type { Enclave } from '../boot.ts';
import type { Logs, TransparencyLog } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import type { Hex, PublicJwk, ResultOutput, Statement } from '../../protocol/index.ts';

/** The model: scores a batch of statements (features extracted inside); model-scorer.ts is the ONNX one. */
export interface Scorer {
  readonly modelHash: Hex;
  readonly executionProvider: 'cpu' | 'cuda' | 'none';
  score(statements: Statement[], threshold: number): Promise<ResultOutput[]>;
}

/** A decrypted, provenance-checked submission. `borrowerIdentity` never leaves the enclave process. */
export type IngestedSubmission = {
  submissionId: Hex;
  inputCommitment: Hex;
  borrowerIdentity: string;
  statement: Statement;
  /** The data owner's public key: consents for this submission must be signed by it. */
  ownerKey: PublicJwk;
  /** The enclave's signed receipt (compact JWS), when the ingest signs its own. */
  receipt?: string;
};
/** `acceptedAt`: re-opening a stored submission (after a restart), judged as of when it was first accepted. */
export type Ingest = (jwe: string, reopen?: { acceptedAt: Date }) => Promise<IngestedSubmission>;

export type Consent = {
  consentId: Hex;
  submissionId: Hex;
  lender: string;
  purpose: string;
  expiresAt: number;
  maxUses: number;
};
/**
 * Checks a signed consent; `ownerKeyOf` resolves the data owner's key bound at submission, `submissionsFor` the
 * stored submissions (newest first) for the inputs a consent names.
 */
export type VerifyConsent = (
  consent: unknown,
  ownerKeyOf: (submissionId: string) => Promise<PublicJwk | undefined>,
  submissionsFor?: (inputCommitment: string) => Promise<string[]>,
) => Promise<Consent>;

export type Limits = {
  /** Request body limit, bytes. */
  maxBodyBytes: number;
  /** Queries per borrower (nullifier) per window, across all lenders. */
  borrowerCap: number;
  borrowerWindowSeconds: number;
  /** Default per-lender rate (requests per second, burst = one second's worth). */
  lenderRatePerSecond: number;
  /** Ciphertexts older than this are deleted. */
  retentionSeconds: number;
  allowedPurposes: string[];
  /** How long POST /v1/jobs waits for the result before answering 202. */
  jobWaitMs: number;
  /**
   * Decrypted statements kept in memory (least recently used dropped first); a job whose statement was dropped
   * re-opens its submission from the store. Bounds the memory a flood of submissions can take.
   */
  cachedStatements: number;
  /**
   * How long a job claimed by an instance stays its own (ms): on a shared store, a job whose instance died is taken
   * over once its lease runs out.
   */
  jobLeaseMs: number;
  /** On a shared store, how often (ms) an instance looks for jobs to claim besides when told of new ones. */
  claimIntervalMs: number;
};

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 256 * 1024,
  borrowerCap: 20,
  borrowerWindowSeconds: 30 * 24 * 3600,
  lenderRatePerSecond: 50,
  retentionSeconds: 24 * 3600,
  allowedPurposes: ['credit-scoring'],
  jobWaitMs: 10_000,
  cachedStatements: 1024,
  jobLeaseMs: 30_000,
  claimIntervalMs: 1_000,
};

/** One line per event, ids and codes only; tests capture it to prove no record reaches the logs. */
export type Logger = (event: Record<string, string | number | boolean>) => void;

export type ServiceDeps = {
  enclave: Enclave;
  store: Store;
  /** This instance's log (`log.id`: its on-chain key id, also its name as a job's claimant). */
  log: TransparencyLog;
  /** Every log in the store: this instance's and, on a shared store, the others'. */
  logs: Logs;
  /** JWK thumbprint of the enclave's decryption key: the submissions this instance can open. */
  decryptionKey: string;
  scorer: Scorer;
  ingest: Ingest;
  verifyConsent: VerifyConsent;
  clock: () => Date;
  random: (n: number) => Uint8Array;
  limits: Limits;
  /** SHA-256 of the admin token (admin routes are separate from lender auth). */
  adminTokenHash: Hex;
  /** Enclave secret keying the borrower nullifier (sealed in a real enclave). */
  nullifierKey: Uint8Array;
  logger: Logger;
  /**
   * `each` (default): every result singly signed (JWS + EIP-712), releasable on chain by signature. `batch`: one
   * signature per scored batch, each result carrying its inclusion proof; released on chain through a log checkpoint.
   */
  resultSigning: 'each' | 'batch';
};
