// Stable error codes and the one error class every part throws. Messages are fixed per code and never
// carry record contents, tokens or keys; `detail` is for safe, structural facts only (a field path, a size).

export const ERROR_MESSAGES = {
  // input and usage
  ERR_USAGE: 'invalid command-line usage',
  ERR_FILE_UNREADABLE: 'file could not be read',
  ERR_INPUT_MALFORMED: 'input does not match its schema',
  ERR_INPUT_TOO_LARGE: 'input exceeds its size limit',
  ERR_NOW_INVALID: 'the verification time is not a valid date',
  ERR_JSON_MALFORMED: 'input is not valid JSON',
  ERR_JSON_DUPLICATE_KEY: 'input JSON repeats a member name within one object (RFC 7493 I-JSON)',
  ERR_CANONICAL_JSON: 'value cannot be canonicalized (RFC 8785)',
  ERR_UNKNOWN_VERSION: 'unknown format version',
  ERR_UNKNOWN_PLATFORM: 'unknown attestation platform',
  ERR_POLICY_MALFORMED: 'policy file is malformed or incomplete',
  ERR_BUNDLE_MALFORMED: 'audit bundle is malformed',
  ERR_BUNDLE_DUPLICATE_RESULT: 'audit bundle holds the same result (requestId) more than once',
  // evidence
  ERR_EVIDENCE_MALFORMED: 'evidence is malformed',
  ERR_EVIDENCE_TRUNCATED: 'evidence is truncated',
  ERR_EVIDENCE_SIGNATURE_INVALID: 'evidence signature does not verify',
  ERR_EVIDENCE_CHAIN_INVALID: 'evidence certificate chain does not verify',
  ERR_EVIDENCE_ROOT_UNTRUSTED: 'evidence chain ends at an untrusted root',
  ERR_EVIDENCE_CERT_EXPIRED: 'a certificate in the evidence chain is outside its validity period',
  ERR_EVIDENCE_SIMULATED_NOT_ALLOWED:
    'evidence is simulated (platform "sim") and the policy does not allow simulated evidence',
  ERR_EVIDENCE_PLATFORM_NOT_ALLOWED: 'evidence platform is not allowed by policy',
  ERR_EVIDENCE_DEBUG: 'evidence comes from a debug-mode enclave',
  ERR_EVIDENCE_REPORT_DATA_MISMATCH: 'evidence report_data does not bind the enclave keys and manifest',
  ERR_EVIDENCE_MEASUREMENT_MISMATCH: 'evidence measurements do not match the manifest',
  // manifest / pipeline policy
  ERR_MANIFEST_MISMATCH: 'manifest does not match the manifest hash bound in the evidence',
  ERR_MANIFEST_CODE_HASH_NOT_ALLOWED: 'manifest code hash is not allowed by policy',
  ERR_MANIFEST_MODEL_HASH_NOT_ALLOWED: 'manifest model hash is not allowed by policy',
  ERR_MANIFEST_POLICY_HASH_NOT_ALLOWED: 'manifest policy hash is not allowed by policy',
  // results
  ERR_RESULT_MALFORMED: 'result attestation is malformed',
  ERR_RESULT_ALG_NOT_ALLOWED: 'result JWS algorithm is not allowed',
  ERR_RESULT_SIGNATURE_INVALID: 'result JWS signature does not verify',
  ERR_RESULT_KEY_NOT_BOUND: 'result signing key is not bound in the evidence',
  ERR_RESULT_EIP712_SIGNATURE_INVALID: 'result EIP-712 signature does not verify',
  ERR_RESULT_BATCH_PROOF_INVALID: 'result is not in the signed batch (inclusion proof does not verify)',
  ERR_RESULT_EIP712_DOMAIN_NOT_ALLOWED: 'result EIP-712 domain is not allowed',
  ERR_RESULT_EVIDENCE_MISMATCH: 'result names other evidence or another manifest',
  ERR_RESULT_DECISION_INCONSISTENT: 'result decision does not follow from its score and threshold',
  ERR_RESULT_REQUEST_MISMATCH: 'result answers another request',
  ERR_RESULT_NONCE_MISMATCH: 'result nonce does not match the request nonce',
  ERR_RESULT_NONCE_REPLAYED: 'result nonce was already used',
  ERR_RESULT_EXPIRED: 'result attestation has expired',
  ERR_RESULT_NOT_YET_VALID: 'result attestation is not yet valid',
  // enclave
  ERR_ENCLAVE_BOOT: 'enclave failed to boot',
  ERR_MODEL_HASH_MISMATCH: 'model file does not match the expected model hash',
  ERR_SIGNER_SCHEME_UNSUPPORTED: 'signer scheme is not supported',
  // provenance proof verification (verifier/provenance)
  ERR_PROVENANCE_MALFORMED: 'provenance proof is malformed',
  ERR_PROVENANCE_UNKNOWN_KIND: 'unknown provenance proof kind',
  ERR_PROVENANCE_NOTARY_UNTRUSTED: 'provenance proof is notarized by an untrusted notary key',
  ERR_PROVENANCE_WITNESS_UNTRUSTED: 'provenance claim is signed by an untrusted witness',
  ERR_PROVENANCE_SIGNER_UNTRUSTED: 'provenance proof is signed by an untrusted key',
  ERR_PROVENANCE_HOST_NOT_ALLOWED: 'provenance proof is for a host the policy does not allow',
  ERR_PROVENANCE_ISSUER_MISMATCH: 'provenance proof names an issuer its signing key is not pinned for',
  ERR_PROVENANCE_STALE: 'provenance proof is too old or expired',
  ERR_PROVENANCE_FROM_FUTURE: 'provenance proof is dated in the future',
  ERR_PROVENANCE_SIGNATURE_INVALID: 'provenance proof signature does not verify',
  ERR_PROVENANCE_ALG_NOT_ALLOWED: 'provenance proof signature algorithm is not allowed',
  ERR_PROVENANCE_CERT_CHAIN_INVALID: 'server certificate chain in the provenance proof does not verify',
  ERR_PROVENANCE_REDACTED_BYTES: 'provenance data would use redacted (unauthenticated) bytes',
  ERR_PROVENANCE_TRANSCRIPT_TOO_LARGE: 'provenance transcript exceeds the policy size limit',
  ERR_PROVENANCE_CLAIM_MISMATCH: 'provenance claim identifier does not match its contents',
  ERR_PROVENANCE_BODY_MISMATCH: 'provenance body does not match its signed digest',
  ERR_PROVENANCE_STATUS_NOT_OK: 'attested fetch did not receive a successful HTTP status',
  ERR_PROVENANCE_POLICY_MALFORMED: 'provenance policy is malformed or incomplete',
  // credit model (features, ONNX runtime)
  ERR_FEATURES_STATEMENT_INCONSISTENT: 'statement dates or running balances are inconsistent',
  ERR_FEATURES_HISTORY_TOO_SHORT: 'statement history is too short to score',
  ERR_MODEL_LOAD_FAILED: 'model file could not be loaded',
  ERR_MODEL_PROVIDER_UNAVAILABLE: 'requested execution provider is not available',
  ERR_MODEL_FEATURES_MISMATCH: 'model feature layout does not match this build',
  ERR_MODEL_INPUT_INVALID: 'model input batch is invalid',
  ERR_MODEL_RUNTIME: 'the model runtime failed on this job in every attempt',
  ERR_MODEL_THRESHOLD_INVALID: 'decision threshold must be an integer score in 0..1000',
  // chain (registry, escrow, local chain)
  ERR_CHAIN_START_FAILED: 'local chain (anvil) failed to start',
  ERR_CHAIN_UNREACHABLE: 'chain JSON-RPC endpoint is unreachable',
  ERR_CHAIN_REVERTED: 'chain transaction reverted',
  ERR_CHAIN_CONFIG_INVALID: 'chain configuration is invalid',
  ERR_CHAIN_KEY_INVALID: 'on-chain public key or signature is malformed',
  // real attestation platforms (DCAP, SEV-SNP, Nitro, NVIDIA) and configfs-tsm collection
  ERR_COLLATERAL_MISSING: 'verification collateral is missing',
  ERR_COLLATERAL_MALFORMED: 'verification collateral is malformed',
  ERR_COLLATERAL_SIGNATURE_INVALID: 'collateral signature does not verify',
  ERR_COLLATERAL_EXPIRED: 'collateral is outside its validity period',
  ERR_COLLATERAL_TOO_OLD: 'collateral is older than the policy allows',
  ERR_CRL_INVALID: 'certificate revocation list is malformed, unsigned or out of date',
  ERR_CERT_REVOKED: 'a certificate in the evidence chain is revoked',
  ERR_QE_REPORT_SIGNATURE_INVALID: 'quoting enclave report signature does not verify',
  ERR_QE_HASH_MISMATCH: 'quoting enclave report does not bind the attestation key',
  ERR_QE_IDENTITY_MISMATCH: 'quoting enclave does not match its identity collateral',
  ERR_FMSPC_MISMATCH: 'platform FMSPC does not match the TCB info',
  ERR_TCB_LEVEL_NOT_FOUND: 'no TCB level matches the platform',
  ERR_TCB_STATUS_NOT_ALLOWED: 'platform TCB status is not allowed by policy',
  ERR_TCB_TOO_LOW: 'platform TCB is below the policy minimum',
  ERR_EVIDENCE_MEASUREMENT_NOT_ALLOWED: 'evidence measurement is not allowed by policy',
  ERR_EVENT_LOG_MALFORMED: 'event log is malformed',
  ERR_EVENT_LOG_MISMATCH: 'event log replay does not reproduce the measured registers',
  ERR_EVIDENCE_NONCE_MISMATCH: 'evidence nonce does not match the expected nonce',
  ERR_PLATFORM_VERIFIER_UNAVAILABLE: 'no verifier is available for this platform here',
  ERR_TSM_UNAVAILABLE: 'configfs-tsm report interface is not available',
  ERR_TSM_FAILED: 'configfs-tsm report generation failed',
  ERR_PLATFORM_COLLECT_UNAVAILABLE: 'evidence collection is not available for this platform here',
  ERR_DCAP_CROSS_CHECK_FAILED: 'the reference DCAP verifier (@phala/dcap-qvl) disagrees with this verdict',
  ERR_TD_ATTRIBUTES_NOT_ALLOWED:
    'TD attributes are not acceptable (reserved bits, SEPT_VE_DISABLE off, or a service TD)',
  // data-owner oracle — attested fetcher, submissions (JWE), receipts, consents
  ERR_FETCH_URL_NOT_ALLOWED: 'fetch URL is not an https URL the policy allows',
  ERR_FETCH_HOST_MISMATCH: 'server certificate does not name the pinned host exactly',
  ERR_FETCH_FAILED: 'HTTPS request to the source failed',
  ERR_FETCH_TIMEOUT: 'HTTPS request to the source timed out',
  ERR_FETCH_RESPONSE_TOO_LARGE: 'source response exceeds the size limit',
  ERR_FETCH_SOURCE_REFUSED: 'source refused the request (authentication or missing record)',
  ERR_ORACLE_EVIDENCE_REJECTED: "enclave evidence fails the data owner's policy; nothing was encrypted or sent",
  ERR_ORACLE_MANIFEST_REJECTED: "enclave manifest fails the data owner's policy; nothing was encrypted or sent",
  ERR_ORACLE_KEY_NOT_ATTESTED: 'enclave encryption key is not the key bound in its evidence',
  ERR_ORACLE_VERIFIER_UNAVAILABLE: 'no evidence verifier is available to check the enclave',
  ERR_ORACLE_SUBMIT_FAILED: 'enclave did not accept the submission',
  ERR_SUBMISSION_MALFORMED: 'submission is not a well-formed JWE for this enclave',
  ERR_SUBMISSION_MISADDRESSED: 'submission is addressed to another enclave key or evidence',
  ERR_SUBMISSION_REPLAYED: 'submission id was already used',
  ERR_SUBMISSION_TOO_LARGE: 'submission exceeds the size limit',
  ERR_RECEIPT_MALFORMED: 'receipt is malformed',
  ERR_RECEIPT_SIGNATURE_INVALID: "receipt signature does not verify with the enclave's attested key",
  ERR_RECEIPT_MISMATCH: 'receipt names another submission, evidence or input commitment',
  ERR_CONSENT_MISSING: 'no consent was presented',
  ERR_CONSENT_MALFORMED: 'consent is malformed',
  ERR_CONSENT_SIGNATURE_INVALID: "consent signature does not verify with the data owner's key",
  ERR_CONSENT_EXPIRED: 'consent has expired',
  ERR_CONSENT_NOT_YET_VALID: 'consent is not yet valid',
  ERR_CONSENT_WRONG_LENDER: 'consent was granted to another lender',
  ERR_CONSENT_WRONG_PURPOSE: 'consent was granted for another purpose',
  ERR_CONSENT_EXHAUSTED: 'consent has no uses left',
  ERR_CONSENT_WRONG_INPUTS: 'consent covers other inputs (input commitment differs)',
  // scoring service (HTTP API, store, consent and query limits, jobs, transparency log)
  ERR_HTTP_NOT_FOUND: 'no such route or resource',
  ERR_HTTP_METHOD_NOT_ALLOWED: 'method not allowed on this route',
  ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: 'request body must be application/json',
  ERR_HTTP_MALFORMED: 'request is not well-formed HTTP/1.1',
  ERR_HTTP_HEADERS_TOO_LARGE: 'request headers exceed the size limit',
  ERR_HTTP_REQUEST_TIMEOUT: 'request was not received in time',
  ERR_AUTH_MISSING: 'request carries no credentials',
  ERR_AUTH_INVALID: 'credentials are not valid',
  ERR_AUTH_FORBIDDEN: 'credentials do not allow this operation',
  ERR_RATE_LIMITED: 'too many requests for this lender; retry later',
  ERR_SUBMISSION_DECRYPT_FAILED: 'submission could not be decrypted with the enclave key',
  ERR_SUBMISSION_NOT_FOUND: 'submission not found or already deleted by retention',
  ERR_SUBMISSION_DUPLICATE: 'submission was already received',
  ERR_SUBMISSION_MISMATCH: 'stored ciphertext does not open to the submission it is filed under',
  ERR_CONSENT_NOT_FOUND: 'consent not found',
  ERR_CONSENT_PURPOSE_NOT_ALLOWED: 'consent purpose is not allowed',
  ERR_CONSENT_DUPLICATE: 'consent was already registered',
  ERR_BORROWER_QUERY_CAP: 'query cap for this borrower reached',
  ERR_NONCE_REPLAYED: 'nonce was already used by this lender',
  ERR_IDEMPOTENCY_CONFLICT: 'idempotency key was used with a different request',
  ERR_ESCROW_JOB_TAKEN: 'this lender already has a scoring job for this escrow job',
  ERR_JOB_NOT_FOUND: 'job not found',
  ERR_JOB_FAILED: 'job failed',
  ERR_LOG_INDEX_OUT_OF_RANGE: 'log index or size is outside the tree',
  ERR_LOG_HEAD_INVALID: 'signed tree head does not verify',
  ERR_LOG_INCLUSION_INVALID: 'log inclusion proof does not verify',
  ERR_LOG_INCLUSION_MISSING: 'result comes without its log inclusion proof, which policy requires',
  ERR_LOG_CONSISTENCY_INVALID: 'log consistency proof does not verify',
  ERR_LOG_NOT_FOUND: 'no such log in this store',
  ERR_LOG_HEAD_PENDING: "the log's owner has not yet signed a head covering this result; retry shortly",
  ERR_EVIDENCE_NOT_FOUND: 'no archived evidence under this digest',
  ERR_STORE_FAILED: 'the store could not complete the operation',
  ERR_STORE_UNAVAILABLE: 'the database is unavailable',
  ERR_STORE_URL_INVALID: 'the database URL is not a postgres:// URL',
  ERR_STORE_SCHEMA_NEWER: 'the database schema is newer than this code',
  ERR_INTERNAL: 'internal error',
  // state rollback detection
  ERR_STATE_ROLLED_BACK: "the enclave's state is older than its last on-chain checkpoint (host rolled it back)",
  ERR_STATE_FORKED: "the enclave's log disagrees with its on-chain checkpoint at the same size",
  ERR_STATE_FLEET_SEAL_MISMATCH:
    "this instance's fleet seed differs from the one the fleet's database was started with",
  ERR_STATE_SEAL_MISSING: "the database exists but the enclave's sealed seed for it does not",
  ERR_STATE_WITNESS_UNAVAILABLE: 'no key-release service answered with the witnessed head of this log',
  // key release (props kms) and the instances that ask it
  ERR_KMS_UNREACHABLE: 'the key-release service could not be reached',
  ERR_KMS_ANSWER_MALFORMED: 'the key-release service answered something that is not its protocol',
  ERR_KMS_EVIDENCE_REFUSED: "the key-release service's evidence does not verify or is not the KMS this code ships",
  ERR_KMS_REQUEST_SIGNATURE: 'the release request is not signed by the key its evidence binds',
  ERR_KMS_MISADDRESSED: 'the request or release names another service, instance or app',
  ERR_KMS_NONCE_UNKNOWN: 'the release request names a challenge this service did not issue or that expired',
  ERR_KMS_NONCE_REPLAYED: 'the release request reuses a challenge already answered',
  ERR_KMS_RELEASE_KEY_MISSING: 'the evidence binds no release key',
  ERR_KMS_DATA_KEY_MISMATCH: "the evidence does not bind the fleet's data key",
  ERR_KMS_PIPELINE_NOT_APPROVED: 'the pipeline is not approved and active on chain for this app',
  ERR_KMS_PEER_MISMATCH: 'a KMS replica asking to join runs other code or policy than this one',
  ERR_KMS_APPROVALS_UNAVAILABLE: 'the registry could not be read to check the pipeline approval',
  ERR_KMS_RELEASE_UNREADABLE: "the release does not open with this instance's release key",
  ERR_KMS_RELEASE_SIGNATURE: 'the release is not signed by the attested key-release service',
  ERR_KMS_NOT_READY: 'this key-release service holds no fleet secrets yet',
} as const;

export type ErrorCode = keyof typeof ERROR_MESSAGES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_MESSAGES, value);
}

export type PropsErrorOptions = { detail?: string; cause?: unknown };

/** The base error: a stable `code`, the fixed message for it, optional safe `detail`, and a walkable `cause`. */
export class PropsError extends Error {
  override readonly name = 'PropsError';
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, options: PropsErrorOptions = {}) {
    super(options.detail ? `${ERROR_MESSAGES[code]}: ${options.detail}` : ERROR_MESSAGES[code], {
      cause: options.cause,
    });
    this.code = code;
    this.detail = options.detail;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isPropsError(e: unknown, code?: ErrorCode): e is PropsError {
  return e instanceof PropsError && (code === undefined || e.code === code);
}

/** Walks the cause chain for the first PropsError, so wrappers never hide the stable code. */
export function findPropsError(e: unknown): PropsError | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 16; depth++) {
    if (cur instanceof PropsError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
