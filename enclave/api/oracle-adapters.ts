// The service's data-owner boundary on the oracle's wire formats: submissions are the oracle's JWE
// (decrypted and every provenance proof verified by enclave/ingest.ts), receipts are the oracle's signed Receipt,
// consents are the oracle's Consent JWS (verified by verifier/consent.ts against the owner key bound at submission).
import { base64url, decodeProtectedHeader } from 'jose';
import { LRUCache } from 'lru-cache';
import { JWE_HEADER, PropsError, type Hex, type Statement } from '../../protocol/index.ts';
import { verifyConsent as verifyOracleConsent, type ProvenanceVerdict } from '../../verifier/index.ts';
import type { Enclave } from '../boot.ts';
import { decryptSubmission, signReceipt, type ProvenanceVerifier } from '../ingest.ts';
import type { Consent, Ingest, VerifyConsent } from './deps.ts';

function addressedDigest(jwe: string): Hex {
  let digest: unknown;
  try {
    digest = decodeProtectedHeader(jwe)[JWE_HEADER.evidenceDigest];
  } catch {
    throw new PropsError('ERR_SUBMISSION_MALFORMED');
  }
  if (typeof digest !== 'string') throw new PropsError('ERR_SUBMISSION_MALFORMED');
  return digest as Hex;
}

export type OracleBoundary = { ingest: Ingest; verifyConsent: VerifyConsent };

/** The one verdict that certifies a statement (the service scores exactly one statement per submission). */
function certified(verified: unknown[]): ProvenanceVerdict & { statement: Statement } {
  const withStatement = (verified as ProvenanceVerdict[]).filter((v) => v.statement !== undefined);
  if (withStatement.length !== 1)
    throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'exactly one certified statement is required' });
  return withStatement[0] as ProvenanceVerdict & { statement: Statement };
}

/** Ids remembered by the boundary (each map, unless `cachedIds` says otherwise), least recently used dropped first. */
const CACHED_IDS = 65_536;

export function oracleBoundary(o: {
  enclave: Enclave;
  verifyProvenance: ProvenanceVerifier;
  clock: () => Date;
  clockSkewSeconds?: number;
  cachedIds?: number;
}): OracleBoundary {
  const { enclave } = o;
  const signer = enclave.signJws;
  // Replays are refused here (ids seen lately by this process) and by the store's unique submission id (all of
  // them, across restarts: ERR_SUBMISSION_DUPLICATE), so this set can be bounded; unbounded, a flood of submissions
  // would grow it for as long as the process lives.
  const cachedIds = o.cachedIds ?? CACHED_IDS;
  const recent = new LRUCache<string, true>({ max: cachedIds });
  const seen = { has: (id: string) => recent.has(id), add: (id: string) => void recent.set(id, true) };
  // Consents name the inputs they cover (input commitment); this maps them back to the submission that bound the
  // owner key: for submissions this process ingested lately, here; for others (older, or before a restart), from the
  // store.
  const submissionOf = new LRUCache<string, Hex>({ max: cachedIds });

  const ingest: Ingest = async (jwe, reopen) => {
    // Re-opening after a restart: the enclave re-attested (new evidence, same sealed keys), so the digest the owner
    // bound is the one it checked then; the key id is still checked, and the binding was checked on acceptance.
    const evidenceDigest = reopen ? addressedDigest(jwe) : (enclave.evidenceDigest as Hex);
    // A fresh submission is checked against replay now; a stored one being re-opened was checked when accepted
    // (and the store keeps submission ids unique across restarts).
    const accepted = await decryptSubmission(jwe, enclave.keys.encryptionPrivateKey, {
      expectedKid: enclave.evidence.keys.encryption.kid,
      evidenceDigest,
      seenSubmissionIds: reopen ? { has: () => false, add: () => {} } : seen,
      verifyProvenance: o.verifyProvenance,
      now: reopen ? () => reopen.acceptedAt : o.clock,
      // Checked before the id is remembered, so a refused submission's retry is refused with the same code.
      accept: (a) => void certified(a.verified),
    });
    const v = certified(accepted.verified);
    const statement = v.statement;
    const submissionId = accepted.submission.submissionId as Hex;
    submissionOf.set(accepted.inputCommitment, submissionId);
    const { jws } = await signReceipt(accepted, signer, o.clock);
    return {
      submissionId,
      inputCommitment: accepted.inputCommitment,
      // The borrower as the provenance proof establishes them: the certified source and its account.
      borrowerIdentity: `${v.host}/${statement.accountId}`,
      statement,
      ownerKey: accepted.submission.owner,
      receipt: jws,
    };
  };

  const verifyConsent: VerifyConsent = async (consent, ownerKeyOf, submissionsFor) => {
    if (typeof consent !== 'string' || consent.split('.').length !== 3) throw new PropsError('ERR_CONSENT_MALFORMED');
    let claimed: { inputCommitment?: unknown; lender?: unknown; purpose?: unknown };
    try {
      claimed = JSON.parse(new TextDecoder().decode(base64url.decode(consent.split('.')[1] ?? ''))) as typeof claimed;
    } catch {
      throw new PropsError('ERR_CONSENT_MALFORMED');
    }
    // Only read to find the submission (the signature is checked below): but it must be an object to be read at all.
    if (typeof claimed !== 'object' || claimed === null || Array.isArray(claimed))
      throw new PropsError('ERR_CONSENT_MALFORMED');
    // Strings or nothing: `String()` of an object runs its own `toString` (a crafted one throws, a 500).
    const { inputCommitment, lender } = claimed;
    if (typeof inputCommitment !== 'string' || typeof lender !== 'string')
      throw new PropsError('ERR_CONSENT_MALFORMED');
    // Signature, owner key, inputs and time are checked here; lender and uses are enforced per job by the service.
    // With several submissions of the same inputs, the consent belongs to the one whose owner key signed it.
    let lastError: unknown = new PropsError('ERR_CONSENT_WRONG_INPUTS', { detail: 'no submission with these inputs' });
    const tryEach = async (candidates: readonly string[]): Promise<Consent | undefined> => {
      for (const submissionId of candidates) {
        const ownerJwk = await ownerKeyOf(submissionId);
        if (!ownerJwk) continue;
        try {
          const c = await verifyOracleConsent(consent, {
            ownerJwk,
            lender,
            purpose: 'credit-scoring',
            inputCommitment: inputCommitment as Hex,
            now: o.clock(),
            usesSoFar: 0,
            clockSkewSeconds: o.clockSkewSeconds ?? 60,
          });
          return {
            consentId: c.consentId as Hex,
            submissionId: submissionId as Hex,
            lender: c.lender,
            purpose: c.purpose,
            expiresAt: c.exp,
            maxUses: c.maxUses,
          };
        } catch (e) {
          lastError = e;
        }
      }
      return undefined;
    };
    // The cache holds only the newest submission of these inputs: anyone can resubmit the same proofs under their own
    // key, so when that one is not the signer's, the stored submissions are tried too.
    const known = submissionOf.get(inputCommitment);
    const found =
      (known ? await tryEach([known]) : undefined) ??
      (submissionsFor
        ? await tryEach((await submissionsFor(inputCommitment)).filter((id) => id !== known))
        : undefined);
    if (found) return found;
    throw lastError;
  };

  return { ingest, verifyConsent };
}
