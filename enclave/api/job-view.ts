// A job as the lender sees it: the stored row with, once done, its result (attestation spliced in as stored JSON text,
// a batched one with its batch head put back) and where it sits in which log.
import { PropsError } from '../../protocol/index.ts';
import type { JobRow, Store } from '../store/index.ts';
import { attestationJson } from './jobs.ts';

export type JobResult = { attestation: string; logId: string; logIndex: number };

export async function loadJob(store: Store, id: string): Promise<{ job: JobRow; result: JobResult | undefined }> {
  const job = await store.getJob(id);
  if (!job) throw new PropsError('ERR_JOB_NOT_FOUND');
  const row = job.state === 'done' ? await store.getResult(id) : undefined;
  return {
    job,
    result: row && {
      attestation: attestationJson(row.attestation, row.head),
      logId: row.logId,
      logIndex: row.logIndex,
    },
  };
}

/** The job's fields a lender sees (no result), as an object. */
export function jobSummary(job: JobRow) {
  return {
    jobId: job.id,
    state: job.state,
    requestId: job.requestId,
    nonce: job.nonce,
    consentId: job.consentId,
    createdAt: job.createdAt,
    ...(job.escrowJobId ? { escrowJobId: job.escrowJobId } : {}),
    ...(job.errorCode ? { error: job.errorCode } : {}),
  };
}

/**
 * A job's view as JSON text (the body of POST and GET /v1/jobs/{id}). A result's attestation is stored as JSON text
 * and is spliced in as is, not parsed and re-serialized.
 */
export function jobJson(job: JobRow, result?: JobResult): string {
  const head = JSON.stringify({
    jobId: job.id,
    state: result ? 'done' : job.state,
    requestId: job.requestId,
    nonce: job.nonce,
    consentId: job.consentId,
    ...(job.escrowJobId ? { escrowJobId: job.escrowJobId } : {}),
    ...(job.errorCode ? { error: job.errorCode } : {}),
  });
  return result
    ? `${head.slice(0, -1)},"attestation":${result.attestation},"logId":"${result.logId}","logIndex":${result.logIndex}}`
    : head;
}
