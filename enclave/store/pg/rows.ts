// Jobs as JSON between the shared store and its plpgsql functions: the rows they return, the inputs they read.
import type { AcceptJobInput, JobRow } from '../types.ts';

/** A job as `to_jsonb(jobs)` gives it (column names as keys). */
export const jobFromJson = (j: Record<string, unknown>): JobRow => ({
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
export const acceptInputJson = ({ job: j, now, borrowerCap, borrowerWindowSeconds }: AcceptJobInput) => ({
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
