// Stable error codes and the one error class every part throws. Messages are fixed per code and never
// carry record contents, tokens or keys; `detail` is for safe, structural facts only (a field path, a size).

export const ERROR_MESSAGES = {
  // input and usage
  ERR_USAGE: 'invalid command-line usage',
  ERR_FILE_UNREADABLE: 'file could not be read',
  ERR_INPUT_MALFORMED: 'input does not match its schema',
  ERR_INPUT_TOO_LARGE: 'input exceeds its size limit',
  ERR_JSON_MALFORMED: 'input is not valid JSON',
  ERR_CANONICAL_JSON: 'value cannot be canonicalized (RFC 8785)',
  ERR_UNKNOWN_VERSION: 'unknown format version',
  ERR_UNKNOWN_PLATFORM: 'unknown attestation platform',
  ERR_POLICY_MALFORMED: 'policy file is malformed or incomplete',
  ERR_BUNDLE_MALFORMED: 'audit bundle is malformed',
  // evidence
  ERR_EVIDENCE_MALFORMED: 'evidence is malformed',
  ERR_EVIDENCE_TRUNCATED: 'evidence is truncated',
  ERR_EVIDENCE_SIGNATURE_INVALID: 'evidence signature does not verify',
  ERR_EVIDENCE_CHAIN_INVALID: 'evidence certificate chain does not verify',
  ERR_EVIDENCE_ROOT_UNTRUSTED: 'evidence chain ends at an untrusted root',
  ERR_EVIDENCE_CERT_EXPIRED: 'a certificate in the evidence chain is outside its validity period',
  ERR_EVIDENCE_SIMULATED_NOT_ALLOWED: 'evidence is simulated (platform "sim") and the policy does not allow simulated evidence',
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
  ERR_RESULT_EIP712_DOMAIN_NOT_ALLOWED: 'result EIP-712 domain is not allowed',
  ERR_RESULT_EVIDENCE_MISMATCH: 'result names other evidence or another manifest',
  ERR_RESULT_REQUEST_MISMATCH: 'result answers another request',
  ERR_RESULT_NONCE_MISMATCH: 'result nonce does not match the request nonce',
  ERR_RESULT_NONCE_REPLAYED: 'result nonce was already used',
  ERR_RESULT_EXPIRED: 'result attestation has expired',
  ERR_RESULT_NOT_YET_VALID: 'result attestation is not yet valid',
  // enclave
  ERR_ENCLAVE_BOOT: 'enclave failed to boot',
  ERR_MODEL_HASH_MISMATCH: 'model file does not match the expected model hash',
  ERR_SIGNER_SCHEME_UNSUPPORTED: 'signer scheme is not supported',
  // issue 5: scoring service (HTTP API, store, consent and query limits, jobs, transparency log)
  ERR_HTTP_NOT_FOUND: 'no such route or resource',
  ERR_HTTP_METHOD_NOT_ALLOWED: 'method not allowed on this route',
  ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: 'request body must be application/json',
  ERR_AUTH_MISSING: 'request carries no credentials',
  ERR_AUTH_INVALID: 'credentials are not valid',
  ERR_AUTH_FORBIDDEN: 'credentials do not allow this operation',
  ERR_RATE_LIMITED: 'too many requests for this lender; retry later',
  ERR_SUBMISSION_DECRYPT_FAILED: 'submission could not be decrypted with the enclave key',
  ERR_SUBMISSION_MALFORMED: 'submission payload is malformed',
  ERR_SUBMISSION_NOT_FOUND: 'submission not found or already deleted by retention',
  ERR_SUBMISSION_DUPLICATE: 'submission was already received',
  ERR_CONSENT_MALFORMED: 'consent is malformed',
  ERR_CONSENT_SIGNATURE_INVALID: 'consent is not signed by the data owner of its submission',
  ERR_CONSENT_NOT_FOUND: 'consent not found',
  ERR_CONSENT_WRONG_LENDER: 'consent was granted to another lender',
  ERR_CONSENT_PURPOSE_NOT_ALLOWED: 'consent purpose is not allowed',
  ERR_CONSENT_EXPIRED: 'consent has expired',
  ERR_CONSENT_EXHAUSTED: 'consent has no uses left',
  ERR_CONSENT_DUPLICATE: 'consent was already registered',
  ERR_BORROWER_QUERY_CAP: 'query cap for this borrower reached',
  ERR_NONCE_REPLAYED: 'nonce was already used by this lender',
  ERR_IDEMPOTENCY_CONFLICT: 'idempotency key was used with a different request',
  ERR_JOB_NOT_FOUND: 'job not found',
  ERR_JOB_FAILED: 'job failed',
  ERR_LOG_INDEX_OUT_OF_RANGE: 'log index or size is outside the tree',
  ERR_LOG_HEAD_INVALID: 'signed tree head does not verify',
  ERR_LOG_INCLUSION_INVALID: 'log inclusion proof does not verify',
  ERR_LOG_CONSISTENCY_INVALID: 'log consistency proof does not verify',
  ERR_STORE_FAILED: 'the store could not complete the operation',
  ERR_INTERNAL: 'internal error',
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
