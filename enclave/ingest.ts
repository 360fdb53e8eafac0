// Enclave-side ingest of a data owner's submission: open the JWE (addressed to this enclave's attested key and
// evidence, never seen before), parse it, verify every proof with the injected provenance verifier, and only then
// remember the submission id and answer a signed receipt carrying the input commitment. A rejected submission leaves
// nothing behind: no id, no row, no log line with its contents.
import type { CryptoKey, KeyObject } from 'jose';
import {
  ORACLE_VERSION,
  PropsError,
  RECEIPT_JWS_TYP,
  SUBMISSION_JWE_TYP,
  canonicalBytes,
  inputCommitment as computeInputCommitment,
  jwkThumbprint,
  parseSubmission,
  type Hex,
  type ProvenanceProof,
  type Receipt,
  type Submission,
} from '../protocol/index.ts';
import { jsonFromPlaintext, openEnclaveJwe } from './jwe.ts';
import type { JwsSigner } from './jws-signer.ts';

/** Checks one proof (authentic and acceptable under the enclave's provenance policy); throws ERR_PROVENANCE_*. */
export type ProvenanceVerifier = (proof: ProvenanceProof, ctx: { now: Date }) => Promise<unknown>;

export type SeenIds = { has(id: string): boolean; add(id: string): void };

export type DecryptSubmissionOptions = {
  expectedKid: string;
  evidenceDigest: Hex;
  seenSubmissionIds: SeenIds;
  verifyProvenance: ProvenanceVerifier;
  now: () => Date;
  maxBytes?: number;
  /**
   * The caller's own acceptance checks, run after every proof verified and before the id is remembered: a
   * submission they refuse leaves no id behind, so its retry gets the same refusal, not ERR_SUBMISSION_REPLAYED.
   */
  accept?: (accepted: AcceptedSubmission) => void | Promise<void>;
};

export type AcceptedSubmission = {
  submission: Submission;
  /** What the injected verifier returned for each proof, in order (typically the records it vouches for). */
  verified: unknown[];
  /** See protocol/oracle.ts `inputCommitment`. */
  inputCommitment: Hex;
};

export async function decryptSubmission(
  jwe: unknown,
  decryptionKey: CryptoKey | KeyObject,
  opts: DecryptSubmissionOptions,
): Promise<AcceptedSubmission> {
  const { id, plaintext } = await openEnclaveJwe(jwe, decryptionKey, {
    expectedKid: opts.expectedKid,
    evidenceDigest: opts.evidenceDigest,
    typ: SUBMISSION_JWE_TYP,
    isSeen: (i) => opts.seenSubmissionIds.has(i),
    ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
  });
  let submission: Submission;
  try {
    submission = parseSubmission(jsonFromPlaintext(plaintext));
  } catch (e) {
    // parseSubmission's codes are ERR_UNKNOWN_VERSION / ERR_SUBMISSION_MALFORMED; keep the code, drop the zod cause.
    const code = e instanceof PropsError ? e.code : 'ERR_SUBMISSION_MALFORMED';
    throw new PropsError(code, e instanceof PropsError && e.detail ? { detail: e.detail } : {});
  } finally {
    plaintext.fill(0);
  }
  // The header is authenticated (JWE AAD); the plaintext must say the same, so neither can be swapped alone.
  if (submission.submissionId !== id) throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'submissionId' });
  if (submission.evidenceDigest !== opts.evidenceDigest) {
    throw new PropsError('ERR_SUBMISSION_MISADDRESSED', { detail: 'evidenceDigest' });
  }

  const now = opts.now();
  const verified: unknown[] = [];
  for (const proof of submission.proofs) verified.push(await opts.verifyProvenance(proof, { now }));

  const accepted: AcceptedSubmission = {
    submission,
    verified,
    inputCommitment: computeInputCommitment(submission.proofs),
  };
  await opts.accept?.(accepted);

  // Re-check after the awaits: two copies racing through verification must not both be accepted.
  if (opts.seenSubmissionIds.has(id)) throw new PropsError('ERR_SUBMISSION_REPLAYED');
  opts.seenSubmissionIds.add(id);
  return accepted;
}

/** The enclave's signed receipt for an accepted submission (JWS by its attested JWS key, typ props-receipt+json). */
export async function signReceipt(
  accepted: AcceptedSubmission,
  signer: JwsSigner,
  now: () => Date,
): Promise<{ receipt: Receipt; jws: string }> {
  const s = accepted.submission;
  const receipt: Receipt = {
    version: ORACLE_VERSION,
    typ: 'props-receipt',
    submissionId: s.submissionId,
    evidenceDigest: s.evidenceDigest,
    inputCommitment: accepted.inputCommitment,
    proofCount: s.proofs.length,
    ownerThumbprint: jwkThumbprint(s.owner),
    receivedAt: now().toISOString(),
  };
  return { receipt, jws: await signer(canonicalBytes(receipt), { typ: RECEIPT_JWS_TYP }) };
}
