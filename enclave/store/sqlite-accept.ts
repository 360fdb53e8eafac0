// Job acceptance in the embedded store, group-committed: the acceptances requested within one event-loop turn run in
// one transaction, each inside its own savepoint, so each is still atomic and refused with its own error (a refused
// one leaves no trace), in arrival order, and each caller hears back only after the commit that made its job durable.
import type Database from 'better-sqlite3';
import { PropsError } from '../../protocol/index.ts';
import { isUnique } from './sqlite-connection.ts';
import type { SqliteStatements } from './sqlite-statements.ts';
import type { AcceptJobInput, AcceptJobOutcome, Store, SubmissionMeta } from './types.ts';

type PendingAccept = { input: AcceptJobInput; resolve: (o: AcceptJobOutcome) => void; reject: (e: unknown) => void };
type Outcome = { ok: true; value: AcceptJobOutcome } | { ok: false; error: unknown };

/**
 * One acceptance, in a transaction of its own (a savepoint when nested). Three statements for a new job: the job row
 * first, which also spends the lender's nonce (a unique index on jobs) unless its idempotency key is taken (then
 * nothing is written and the stored job answers); then the consent's use and the borrower's count, each bumped by
 * one statement that also answers whether the bump was allowed. Refusals come in that order (idempotency, nonce or
 * escrow job, consent, submission, borrower cap); a refusal after the job row went in undoes it with the savepoint.
 */
function acceptOneTransaction(
  sqlite: Database.Database,
  { q, raw }: SqliteStatements,
  submissionMeta: (id: string) => SubmissionMeta | undefined,
) {
  return sqlite.transaction(({ job, now, borrowerCap, borrowerWindowSeconds }: AcceptJobInput): AcceptJobOutcome => {
    let inserted: number;
    try {
      inserted = q.jobInsert.run(job).changes;
    } catch (e) {
      if (!isUnique(e)) throw e;
      if (raw.nonceSpent.get(job.lenderId, job.nonce)) throw new PropsError('ERR_NONCE_REPLAYED');
      // A paid job's request id is its escrow job id: one scoring job per escrow job and lender.
      if (job.escrowJobId !== null) throw new PropsError('ERR_ESCROW_JOB_TAKEN');
      throw e;
    }
    if (inserted !== 1) {
      const existing = q.jobByIdem.get({ lenderId: job.lenderId, key: job.idempotencyKey });
      if (!existing) throw new PropsError('ERR_STORE_FAILED', { detail: 'idempotent job vanished' });
      if (existing.requestHash !== job.requestHash) throw new PropsError('ERR_IDEMPOTENCY_CONFLICT');
      return { job: existing, created: false };
    }
    const consent = raw.consentUse.get(job.consentId);
    if (!consent)
      throw new PropsError(raw.consentExists.get(job.consentId) ? 'ERR_CONSENT_EXHAUSTED' : 'ERR_CONSENT_NOT_FOUND');
    const sub = submissionMeta(consent.submissionId);
    if (!sub?.live) throw new PropsError('ERR_SUBMISSION_NOT_FOUND');
    const borrower = raw.borrowerCount.get({ nullifier: sub.nullifier, now, window: borrowerWindowSeconds });
    if (!borrower || borrower.count > borrowerCap) throw new PropsError('ERR_BORROWER_QUERY_CAP');
    return { job, created: true };
  });
}

export function sqliteAcceptance(
  sqlite: Database.Database,
  statements: SqliteStatements,
  submissionMeta: (id: string) => SubmissionMeta | undefined,
): Pick<Store, 'acceptJob'> {
  const acceptOne = acceptOneTransaction(sqlite, statements, submissionMeta);
  let pendingAccepts: PendingAccept[] = [];
  const acceptGroup = sqlite.transaction((group: PendingAccept[]): Outcome[] =>
    group.map((a): Outcome => {
      try {
        return { ok: true, value: acceptOne(a.input) }; // nested: a savepoint
      } catch (error) {
        // An error that aborted the whole transaction (I/O, full disk) fails the group: nothing was committed.
        if (!sqlite.inTransaction) throw error;
        return { ok: false, error };
      }
    }),
  );
  const flushAccepts = () => {
    const group = pendingAccepts;
    pendingAccepts = [];
    let outcomes: Outcome[];
    try {
      outcomes = acceptGroup(group);
    } catch (e) {
      for (const a of group) a.reject(e);
      return;
    }
    group.forEach((a, i) => {
      const o = outcomes[i] as Outcome;
      if (o.ok) a.resolve(o.value);
      else a.reject(o.error);
    });
  };
  return {
    acceptJob(input: AcceptJobInput): Promise<AcceptJobOutcome> {
      return new Promise((resolve, reject) => {
        if (pendingAccepts.push({ input, resolve, reject }) === 1) setImmediate(flushAccepts);
      });
    },
  };
}
