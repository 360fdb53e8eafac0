// One scoring step inside the enclave: a job's statement (decrypted from its stored submission when not cached) and a
// model call for a group of statements that share a threshold.
import { PropsError, type ResultOutput, type Statement } from '../../protocol/index.ts';
import type { JobRow } from '../store/index.ts';
import type { ServiceDeps } from './deps.ts';

/** Decrypted statements by submission id; may forget any of them (a forgotten one is re-opened from the store). */
export type StatementCache = {
  get(submissionId: string): Statement | undefined;
  set(submissionId: string, statement: Statement): unknown;
};

/** A job's statement: from the cache, else its stored submission re-opened (decrypted, proofs checked) in the enclave. */
export async function openStatement(
  deps: ServiceDeps,
  statementCache: StatementCache,
  job: JobRow,
): Promise<Statement> {
  const cached = statementCache.get(job.submissionId);
  if (cached) return cached;
  const sub = await deps.store.getSubmission(job.submissionId);
  if (!sub || sub.ciphertext === null) throw new PropsError('ERR_SUBMISSION_NOT_FOUND');
  // Re-opened after a restart: proofs are judged as of when the submission was accepted.
  const ingested = await deps.ingest(sub.ciphertext, { acceptedAt: new Date(sub.createdAt * 1000) });
  // The result is signed with the row's input commitment: the ciphertext must be the one that row was made from,
  // not another valid submission put in its place in the database.
  if (ingested.submissionId !== sub.id || ingested.inputCommitment !== sub.inputCommitment)
    throw new PropsError('ERR_SUBMISSION_MISMATCH');
  statementCache.set(job.submissionId, ingested.statement);
  return ingested.statement;
}

/**
 * One model call for the group. A statement the model cannot score (its features refuse it, say a history too
 * short) must not hold back the others, which would stay accepted and fail again at every start: when the group
 * call fails, each job is scored alone; one refused alone fails with its own code, one the runtime failed on is
 * tried again later (`failed` decides which).
 */
export async function scoreGroup<G extends { job: JobRow; statement: Statement }>(
  deps: ServiceDeps,
  group: G[],
  threshold: number,
  failed: (job: JobRow, e: unknown) => Promise<void>,
): Promise<{ group: G[]; outputs: ResultOutput[] }> {
  if (group.length > 1) {
    try {
      return {
        group,
        outputs: await deps.scorer.score(
          group.map((g) => g.statement),
          threshold,
        ),
      };
    } catch {
      // Each job alone, below.
    }
  }
  const kept: G[] = [];
  const outputs: ResultOutput[] = [];
  for (const g of group) {
    try {
      const [output] = await deps.scorer.score([g.statement], threshold);
      if (!output) throw new PropsError('ERR_JOB_FAILED', { detail: 'no output' });
      kept.push(g);
      outputs.push(output);
    } catch (e) {
      await failed(g.job, e);
    }
  }
  return { group: kept, outputs };
}
