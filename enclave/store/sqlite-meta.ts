// The embedded store's cached reads of what never changes: a live submission's public fields and a consent's
// registration. The only process on the database is the only writer, so its caches cannot go stale unseen.
import { consentRef } from '../../protocol/index.ts';
import { cacheSet } from './bounded-cache.ts';
import type { SqliteRawStatements } from './sqlite-statements.ts';
import type { ConsentMeta, SubmissionMeta } from './types.ts';

export type SqliteMetaReads = {
  submissionMeta(id: string): SubmissionMeta | undefined;
  consentMeta(id: string): ConsentMeta | undefined;
  /** Retention deleted ciphertexts: cached submissions may no longer be live. */
  forgetSubmissions(): void;
};

export function sqliteMetaReads(raw: SqliteRawStatements): SqliteMetaReads {
  const submissionMetaCache = new Map<string, SubmissionMeta>();
  // Consents are never updated but for their use count, nor deleted.
  const consentMetaCache = new Map<string, ConsentMeta>();
  return {
    submissionMeta(id) {
      const cached = submissionMetaCache.get(id);
      if (cached) return cached;
      const row = raw.submissionMeta.get(id);
      if (!row) return undefined;
      const meta = {
        inputCommitment: row.inputCommitment,
        nullifier: row.nullifier,
        decryptionKey: row.decryptionKey,
        live: row.live === 1,
      };
      // Only a live submission is cached: a deleted ciphertext never comes back.
      if (meta.live) cacheSet(submissionMetaCache, id, meta);
      return meta;
    },
    consentMeta(id) {
      let meta = consentMetaCache.get(id);
      if (!meta) {
        const row = raw.consentMeta.get(id);
        if (!row) return undefined;
        const { jws, ...rest } = row;
        meta = { ...rest, ref: consentRef(jws) };
        cacheSet(consentMetaCache, id, meta);
      }
      return meta;
    },
    forgetSubmissions() {
      submissionMetaCache.clear();
    },
  };
}
