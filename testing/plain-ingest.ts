// TEST SUPPORT, not a wire format of Props: a plain submission (a JWE, ECDH-ES + A256GCM to the enclave's encryption
// key, carrying a statement, an UNVERIFIED provenance claim naming the borrower, and the owner's key) and a consent as a
// compact ES256 JWS by that owner key. The service tests and the attack scenarios use it to reach the scoring service
// without the oracle; `props serve` and the simulation inject the oracle's boundary (enclave/api/oracle-adapters.ts).
import { compactDecrypt, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { z } from 'zod';
import {
  canonicalBytes,
  inputCommitment,
  parseJsonText,
  parseWith,
  PropsError,
  publicJwk,
  sha256,
  statement,
  toHex,
  type Hex,
  type ProvenanceProof,
} from '../protocol/index.ts';
import type { Enclave } from '../enclave/index.ts';
import type { Consent, Ingest, VerifyConsent } from '../enclave/api/index.ts';

export const submissionPayload = z.strictObject({
  v: z.literal(1),
  statement,
  /** Who the records belong to, as claimed: nothing here checks `proof`. */
  provenance: z.strictObject({
    type: z.string().min(1).max(32),
    subject: z.string().min(1).max(256),
    proof: z.unknown(),
  }),
  owner: publicJwk,
});
export type SubmissionPayload = z.infer<typeof submissionPayload>;

export const consentPayload = z.strictObject({
  v: z.literal(1),
  typ: z.literal('props-consent'),
  submissionId: z.string().regex(/^0x[0-9a-f]{64}$/),
  lender: z.string().min(1).max(64),
  purpose: z.string().min(1).max(64),
  expiresAt: z.number().int().positive(),
  maxUses: z.number().int().min(1).max(1_000_000),
  iat: z.number().int().nonnegative(),
});
export type ConsentPayload = z.infer<typeof consentPayload>;

/** submissionId = SHA-256 of the JWE as received: a resubmission of the same ciphertext is a duplicate. */
export const submissionIdOf = (jwe: string): Hex => toHex(sha256(new TextEncoder().encode(jwe)));

/**
 * The input commitment is the protocol's (protocol/oracle.ts `inputCommitment`), not one of this format's own: the
 * claim, with the statement it vouches for, stands as the one proof of the submission.
 */
const claimAsProof = (p: SubmissionPayload): ProvenanceProof =>
  ({ ...p.provenance, statement: p.statement }) as unknown as ProvenanceProof;

export function plainIngest(enclave: Enclave): Ingest {
  return async (jwe) => {
    let plaintext: Uint8Array;
    try {
      const header = decodeProtectedHeader(jwe);
      if (header.alg !== 'ECDH-ES' || header.enc !== 'A256GCM') throw new Error('alg');
      ({ plaintext } = await compactDecrypt(jwe, enclave.keys.encryptionPrivateKey, {
        keyManagementAlgorithms: ['ECDH-ES'],
        contentEncryptionAlgorithms: ['A256GCM'],
      }));
    } catch (cause) {
      throw new PropsError('ERR_SUBMISSION_DECRYPT_FAILED', { cause });
    }
    const payload = parseWith(
      submissionPayload,
      parseJsonText(new TextDecoder().decode(plaintext), 4_000_000),
      'ERR_SUBMISSION_MALFORMED',
    );
    plaintext.fill(0);
    if (payload.owner.alg !== 'ES256' || payload.owner.crv !== 'P-256')
      throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'owner: ES256 key expected' });
    return {
      submissionId: submissionIdOf(jwe),
      inputCommitment: inputCommitment([claimAsProof(payload)]),
      borrowerIdentity: `${payload.provenance.type}:${payload.provenance.subject}`,
      statement: payload.statement,
      ownerKey: payload.owner,
    };
  };
}

export const plainVerifyConsent: VerifyConsent = async (input, ownerKeyOf) => {
  const jws = parseWith(
    z
      .string()
      .max(8192)
      .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/),
    input,
    'ERR_CONSENT_MALFORMED',
  );
  let claimed: ConsentPayload;
  try {
    const header = decodeProtectedHeader(jws);
    if (header.alg !== 'ES256' || header.typ !== 'props-consent+jws') throw new Error('header');
    claimed = consentPayload.parse(JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')));
  } catch (cause) {
    throw new PropsError('ERR_CONSENT_MALFORMED', { cause });
  }
  const owner = await ownerKeyOf(claimed.submissionId);
  if (!owner) throw new PropsError('ERR_SUBMISSION_NOT_FOUND');
  try {
    await compactVerify(jws, await importJWK({ ...owner } as JWK, 'ES256'), { algorithms: ['ES256'] });
  } catch (cause) {
    throw new PropsError('ERR_CONSENT_SIGNATURE_INVALID', { cause });
  }
  const consent: Consent = {
    consentId: toHex(sha256(canonicalBytes({ consent: jws }))),
    submissionId: claimed.submissionId as Hex,
    lender: claimed.lender,
    purpose: claimed.purpose,
    expiresAt: claimed.expiresAt,
    maxUses: claimed.maxUses,
  };
  return consent;
};
