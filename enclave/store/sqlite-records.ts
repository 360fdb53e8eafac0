// The embedded store's registrations: lenders, submissions (and their retention), consents, boot evidence, settings
// and the audit trail. Each is one statement; a duplicate is refused with its own code.
import { and, desc, eq, isNotNull, lt } from 'drizzle-orm';
import { PropsError } from '../../protocol/index.ts';
import { countersBehindOf, countersBehindQuery } from './counters.ts';
import { isUnique, type SqliteDb } from './sqlite-connection.ts';
import type { SqliteMetaReads } from './sqlite-meta.ts';
import type { SqliteQueries } from './sqlite-statements.ts';
import * as t from './schema.ts';
import type { Store } from './types.ts';

type SubmissionMethods =
  | 'createLender'
  | 'lenderByKeyHash'
  | 'insertSubmission'
  | 'getSubmission'
  | 'liveSubmissionIds'
  | 'submissionMeta'
  | 'deleteCiphertexts';
type ConsentMethods = 'insertConsent' | 'consentMeta' | 'getConsent';

export function sqliteLendersAndSubmissions(
  db: SqliteDb,
  q: SqliteQueries,
  meta: SqliteMetaReads,
): Pick<Store, SubmissionMethods> {
  return {
    async createLender(row) {
      db.insert(t.lenders).values(row).run();
    },
    async lenderByKeyHash(keyHash) {
      return q.lenderByKeyHash.get({ keyHash });
    },
    async insertSubmission(row) {
      try {
        db.insert(t.submissions).values(row).run();
      } catch (e) {
        if (isUnique(e)) throw new PropsError('ERR_SUBMISSION_DUPLICATE');
        throw e;
      }
    },
    async getSubmission(id) {
      return q.submission.get({ id });
    },
    async liveSubmissionIds(inputCommitment) {
      // Consent registration only (not a per-score path).
      return db
        .select({ id: t.submissions.id })
        .from(t.submissions)
        .where(and(eq(t.submissions.inputCommitment, inputCommitment), isNotNull(t.submissions.ciphertext)))
        .orderBy(desc(t.submissions.createdAt))
        .limit(16)
        .all()
        .map((r) => r.id);
    },
    async submissionMeta(id) {
      return meta.submissionMeta(id);
    },
    async deleteCiphertexts(before, now) {
      meta.forgetSubmissions();
      const r = db
        .update(t.submissions)
        .set({ ciphertext: null, deletedAt: now })
        .where(and(lt(t.submissions.createdAt, before), isNotNull(t.submissions.ciphertext)))
        .run();
      return r.changes;
    },
  };
}

export function sqliteConsents(db: SqliteDb, q: SqliteQueries, meta: SqliteMetaReads): Pick<Store, ConsentMethods> {
  return {
    async insertConsent(row) {
      try {
        db.insert(t.consents).values(row).run();
      } catch (e) {
        if (isUnique(e)) throw new PropsError('ERR_CONSENT_DUPLICATE');
        throw e;
      }
    },
    async consentMeta(id) {
      return meta.consentMeta(id);
    },
    async getConsent(id) {
      return q.consent.get({ id });
    },
  };
}

export function sqliteEvidenceAndSettings(
  db: SqliteDb,
): Pick<Store, 'putEvidence' | 'getEvidence' | 'firstValue' | 'audit' | 'countersBehindJobs'> {
  return {
    async putEvidence(row) {
      db.insert(t.evidence).values(row).onConflictDoNothing().run();
    },
    async getEvidence(digest) {
      return db.select().from(t.evidence).where(eq(t.evidence.digest, digest)).get();
    },
    async firstValue(name, value) {
      db.insert(t.settings).values({ name, value }).onConflictDoNothing().run();
      return (
        db.select({ value: t.settings.value }).from(t.settings).where(eq(t.settings.name, name)).get() as {
          value: string;
        }
      ).value;
    },
    async audit(kind, actor, subject) {
      db.insert(t.auditEvents).values({ kind, actor, subject }).run();
    },
    async countersBehindJobs(now, windowSeconds) {
      return countersBehindOf(db.get(countersBehindQuery(now, windowSeconds)));
    },
  };
}
