// The shared store's registrations: lenders, submissions (and their retention), consents, boot evidence, settings
// and the audit trail, with the per-instance caches of what never changes.
import { and, desc, eq, isNotNull, lt } from 'drizzle-orm';
import { consentRef, PropsError } from '../../../protocol/index.ts';
import { cacheSet } from '../bounded-cache.ts';
import { countersBehindOf, countersBehindQuery } from '../counters.ts';
import type { ConsentMeta, LenderRow, Store, SubmissionMeta, SubmissionRow } from '../types.ts';
import type { PgContext } from './context.ts';
import { sqlState } from './errors.ts';
import * as t from './schema.ts';
import { Q } from './statements.ts';

type SubmissionMethods =
  | 'createLender'
  | 'lenderByKeyHash'
  | 'insertSubmission'
  | 'getSubmission'
  | 'submissionMeta'
  | 'liveSubmissionIds'
  | 'deleteCiphertexts';
type ConsentMethods = 'insertConsent' | 'getConsent' | 'consentMeta';

/** True when a statement failed on one of the table's constraints (SQLSTATE class 23), as a duplicate does. */
const isConstraint = (e: unknown) => sqlState(e)?.startsWith('23') === true;

// Per-instance caches. Lenders are never updated; a consent's meta is immutable; a submission's meta is cached
// only while its ciphertext is held. Retention on another instance can delete a cached one's ciphertext: acceptance
// reads the submission in the database again, so a stale entry never lets a deleted submission be scored.

export function pgLendersAndSubmissions({ db, run, guard }: PgContext): Pick<Store, SubmissionMethods> {
  const lenderCache = new Map<string, LenderRow>();
  const submissionMetaCache = new Map<string, SubmissionMeta>();
  const submissionMeta = async (id: string): Promise<SubmissionMeta | undefined> => {
    const cached = submissionMetaCache.get(id);
    if (cached) return cached;
    const [row] = await run<SubmissionMeta>(Q.submissionMeta, [id]);
    if (!row) return undefined;
    if (row.live) cacheSet(submissionMetaCache, id, row);
    return row;
  };
  return {
    createLender: (row) => guard(async () => void (await db.insert(t.lenders).values(row))),
    lenderByKeyHash: (keyHash) =>
      guard(async () => {
        const cached = lenderCache.get(keyHash);
        if (cached) return cached;
        const [row] = await run<LenderRow>(Q.lenderByKeyHash, [keyHash]);
        if (row) cacheSet(lenderCache, keyHash, row);
        return row;
      }),
    insertSubmission: (row) =>
      guard(async () => {
        try {
          await db.insert(t.submissions).values(row);
        } catch (e) {
          if (isConstraint(e)) throw new PropsError('ERR_SUBMISSION_DUPLICATE');
          throw e;
        }
      }),
    getSubmission: (id) => guard(async () => (await run<SubmissionRow>(Q.submission, [id]))[0]),
    submissionMeta: (id) => guard(() => submissionMeta(id)),
    liveSubmissionIds: (inputCommitment) =>
      guard(async () =>
        (
          await db
            .select({ id: t.submissions.id })
            .from(t.submissions)
            .where(and(eq(t.submissions.inputCommitment, inputCommitment), isNotNull(t.submissions.ciphertext)))
            .orderBy(desc(t.submissions.createdAt))
            .limit(16)
        ).map((r) => r.id),
      ),
    deleteCiphertexts: (before, now) =>
      guard(async () => {
        submissionMetaCache.clear();
        const deleted = await db
          .update(t.submissions)
          .set({ ciphertext: null, deletedAt: now })
          .where(and(lt(t.submissions.createdAt, before), isNotNull(t.submissions.ciphertext)))
          .returning({ id: t.submissions.id });
        return deleted.length;
      }),
  };
}

export function pgConsents({ db, run, guard }: PgContext): Pick<Store, ConsentMethods> {
  const consentMetaCache = new Map<string, ConsentMeta>();
  return {
    insertConsent: (row) =>
      guard(async () => {
        try {
          await db.insert(t.consents).values(row);
        } catch (e) {
          if (isConstraint(e)) throw new PropsError('ERR_CONSENT_DUPLICATE');
          throw e;
        }
      }),
    getConsent: (id) => guard(async () => (await db.select().from(t.consents).where(eq(t.consents.id, id)))[0]),
    consentMeta: (id) =>
      guard(async () => {
        let meta = consentMetaCache.get(id);
        if (!meta) {
          const [row] = await run<Omit<ConsentMeta, 'ref'> & { jws: string }>(Q.consentMeta, [id]);
          if (!row) return undefined;
          const { jws, ...rest } = row;
          meta = { ...rest, ref: consentRef(jws) };
          cacheSet(consentMetaCache, id, meta);
        }
        return meta;
      }),
  };
}

export function pgEvidenceAndSettings({
  db,
  run,
  guard,
}: PgContext): Pick<Store, 'putEvidence' | 'getEvidence' | 'audit' | 'firstValue' | 'countersBehindJobs'> {
  return {
    putEvidence: (row) => guard(async () => void (await db.insert(t.evidence).values(row).onConflictDoNothing())),
    getEvidence: (digest) =>
      guard(async () => (await db.select().from(t.evidence).where(eq(t.evidence.digest, digest)))[0]),
    audit: (kind, actor, subject) =>
      guard(async () => void (await db.insert(t.auditEvents).values({ kind, actor, subject }))),
    firstValue: (name, value) =>
      guard(async () => {
        // DO UPDATE (to the value already there) rather than DO NOTHING: it returns the row that won, even one a
        // concurrent instance committed after this statement began.
        const [row] = await run<{ value: string }>(Q.firstValue, [name, value]);
        return (row as { value: string }).value;
      }),
    countersBehindJobs: (now, windowSeconds) =>
      guard(async () => {
        const rows = await db.execute<{ consents: unknown; borrowers: unknown }>(
          countersBehindQuery(now, windowSeconds),
        );
        return countersBehindOf(rows[0]);
      }),
  };
}
