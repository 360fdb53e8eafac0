// RFC 9457 problem details carrying the stable code; the one place that maps an error code to an HTTP status.
import { ERROR_MESSAGES, findPropsError, type ErrorCode } from '../../protocol/index.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  ERR_HTTP_NOT_FOUND: 404,
  ERR_HTTP_METHOD_NOT_ALLOWED: 405,
  ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_HTTP_HEADERS_TOO_LARGE: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  ERR_INPUT_TOO_LARGE: 413,
  ERR_AUTH_MISSING: 401,
  ERR_AUTH_INVALID: 401,
  ERR_AUTH_FORBIDDEN: 403,
  ERR_RATE_LIMITED: 429,
  ERR_BORROWER_QUERY_CAP: 429,
  ERR_SUBMISSION_NOT_FOUND: 404,
  ERR_CONSENT_NOT_FOUND: 404,
  ERR_JOB_NOT_FOUND: 404,
  ERR_CONSENT_WRONG_LENDER: 403,
  ERR_CONSENT_EXPIRED: 403,
  ERR_CONSENT_EXHAUSTED: 403,
  ERR_CONSENT_PURPOSE_NOT_ALLOWED: 403,
  ERR_SUBMISSION_DUPLICATE: 409,
  ERR_CONSENT_DUPLICATE: 409,
  ERR_NONCE_REPLAYED: 409,
  ERR_IDEMPOTENCY_CONFLICT: 409,
  ERR_ESCROW_JOB_TAKEN: 409,
  ERR_SUBMISSION_DECRYPT_FAILED: 422,
  ERR_SUBMISSION_MALFORMED: 422,
  ERR_CONSENT_SIGNATURE_INVALID: 422,
  ERR_LOG_INDEX_OUT_OF_RANGE: 404,
  ERR_LOG_NOT_FOUND: 404,
  ERR_LOG_HEAD_PENDING: 503,
  ERR_EVIDENCE_NOT_FOUND: 404,
  ERR_STORE_FAILED: 503,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_KMS_NOT_READY: 503,
  ERR_KMS_APPROVALS_UNAVAILABLE: 503,
  ERR_KMS_PIPELINE_NOT_APPROVED: 403,
  ERR_KMS_PEER_MISMATCH: 403,
  ERR_KMS_MISADDRESSED: 403,
  ERR_KMS_NONCE_REPLAYED: 409,
  ERR_STATE_FORKED: 409,
  ERR_LOG_CONSISTENCY_INVALID: 409,
  ERR_INTERNAL: 500,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? 400;
}

export type Problem = { type: string; title: string; status: number; code: ErrorCode; detail?: string };

/** The problem document for any thrown value; anything that is not a PropsError is an opaque 500. */
export function problemOf(e: unknown): Problem {
  const pe = findPropsError(e);
  const code: ErrorCode = pe?.code ?? 'ERR_INTERNAL';
  const p: Problem = { type: `urn:props:error:${code}`, title: ERROR_MESSAGES[code], status: statusOf(code), code };
  if (pe?.detail) p.detail = pe.detail;
  return p;
}
