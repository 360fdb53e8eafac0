// Data-owner wire formats: the submission a data owner encrypts to the enclave, the fetch delegation that
// carries a bearer token to the enclave's attested fetcher, the receipt the enclave signs, and the consent a data
// owner signs for a lender. Also the input commitment, so enclave, client and auditors compute the same digest.
import { z } from 'zod';
import { toBase64, toHex, utf8, type Hex } from './bytes.ts';
import { canonicalBytes } from './canonical.ts';
import { sha256, sha256Tagged, TAGS } from './hash.ts';
import { assertVersion, parseWith } from './parse.ts';
import { provenanceProof, utcTime, type ProvenanceProof } from './provenance.ts';
import { hex32, publicJwk, type PublicJwk } from './schemas.ts';

export const ORACLE_VERSION = 1;

export const ORACLE_TAGS = {
  /** Digest of one provenance proof inside a submission (see `proofDigest`). */
  proof: 'props/provenance-proof/v1',
  /** Reference to a consent by its exact compact JWS bytes (`consentRef`). */
  consent: 'props/consent/v1',
} as const;

/** JWE `typ` values: a submission and a delegation are never interchangeable, even to the same key. */
export const SUBMISSION_JWE_TYP = 'props-submission+jwe';
export const DELEGATION_JWE_TYP = 'props-fetch-delegation+jwe';
/** JWS `typ` values for what the enclave and the data owner sign. */
export const RECEIPT_JWS_TYP = 'props-receipt+json';
export const CONSENT_JWS_TYP = 'props-consent+jwt';

/**
 * Private JWE protected-header parameters. The protected header is the JWE's additional authenticated data, so
 * these cannot be altered without breaking decryption; the enclave checks them before decrypting (misaddressing)
 * and again against the plaintext.
 */
export const JWE_HEADER = { evidenceDigest: 'props_evd', id: 'props_sid' } as const;
export const JWE_KEY_ALGS = ['ECDH-ES+A256KW', 'ECDH-ES'] as const;
export const JWE_CONTENT_ALG = 'A256GCM';

/** Largest compact JWE the enclave reads (submissions carry whole statements and presentations). */
export const MAX_SUBMISSION_BYTES = 8 * 1024 * 1024;

export const lenderId = z.string().regex(/^[a-z0-9][a-z0-9._:-]{0,127}$/, 'expected a lender id');
export const PURPOSES = ['credit-scoring'] as const;
export const purpose = z.enum(PURPOSES);

// ---------------------------------------------------------------- submission (JWE plaintext)
export const submission = z.strictObject({
  version: z.literal(ORACLE_VERSION),
  typ: z.literal('props-submission'),
  /** Random 32 bytes chosen by the data owner; the enclave refuses one it has already accepted. */
  submissionId: hex32,
  /** `evidenceDigest(evidence)` of the enclave the owner checked: a submission for another enclave is refused. */
  evidenceDigest: hex32,
  createdAt: utcTime,
  /** The data owner's public signing key; consents for this submission must verify with it. */
  owner: publicJwk,
  proofs: z.array(provenanceProof).min(1).max(64),
});
export type Submission = z.infer<typeof submission>;

export function parseSubmission(input: unknown): Submission {
  assertVersion(input, 'version', [ORACLE_VERSION]);
  return parseWith(submission, input, 'ERR_SUBMISSION_MALFORMED');
}

// ---------------------------------------------------------------- fetch delegation (JWE plaintext)
export const fetchDelegation = z.strictObject({
  version: z.literal(ORACLE_VERSION),
  typ: z.literal('props-fetch-delegation'),
  delegationId: hex32,
  evidenceDigest: hex32,
  url: z
    .string()
    .max(2048)
    .regex(/^https:\/\/[^\s/?#@]+(\/[^\s#]*)?$/, 'expected an https URL without userinfo'),
  /** The borrower's bearer token for the source; it exists in the clear only inside the enclave. */
  token: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^[\x21-\x7e]+$/, 'expected a printable token'),
});
export type FetchDelegation = z.infer<typeof fetchDelegation>;

// ---------------------------------------------------------------- receipt (JWS payload, signed by the enclave)
export const receipt = z.strictObject({
  version: z.literal(ORACLE_VERSION),
  typ: z.literal('props-receipt'),
  submissionId: hex32,
  evidenceDigest: hex32,
  inputCommitment: hex32,
  proofCount: z.number().int().min(1).max(64),
  /** RFC 7638 SHA-256 thumbprint of the submission's owner key (base64url). */
  ownerThumbprint: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  receivedAt: utcTime,
});
export type Receipt = z.infer<typeof receipt>;

export function parseReceipt(input: unknown): Receipt {
  assertVersion(input, 'version', [ORACLE_VERSION]);
  return parseWith(receipt, input, 'ERR_RECEIPT_MALFORMED');
}

// ---------------------------------------------------------------- consent (JWS payload, signed by the owner)
export const consent = z.strictObject({
  v: z.literal(ORACLE_VERSION),
  typ: z.literal('props-consent'),
  /** Random 32 bytes: uses are counted per consent id. */
  consentId: hex32,
  /** RFC 7638 thumbprint of the owner key that signs this consent. */
  owner: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  lender: lenderId,
  purpose,
  /** The submission whose inputs the lender may have scored (its receipt's input commitment). */
  inputCommitment: hex32,
  maxUses: z.number().int().min(1).max(1000),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
});
export type Consent = z.infer<typeof consent>;

export function parseConsent(input: unknown): Consent {
  assertVersion(input, 'v', [ORACLE_VERSION]);
  return parseWith(consent, input, 'ERR_CONSENT_MALFORMED');
}

/** What the result attestation's `consentRef` names: tagged SHA-256 of the consent's exact compact JWS. */
export const consentRef = (consentJws: string): Hex => toHex(sha256Tagged(ORACLE_TAGS.consent, utf8(consentJws)));

// ---------------------------------------------------------------- input commitment
/**
 * Digest of one proof: tagged SHA-256 (`props/provenance-proof/v1`) of the RFC 8785 form of the proof envelope,
 * WITHOUT an attested-fetch `body` — the signed record already commits to the body's SHA-256, and leaving it out
 * lets a proof disclosed without records (no body) keep the same digest as the one the enclave ingested.
 */
export function proofDigest(proof: ProvenanceProof): Hex {
  const { body: _omit, ...rest } = proof as ProvenanceProof & { body?: string };
  return toHex(sha256Tagged(ORACLE_TAGS.proof, canonicalBytes(rest)));
}

/**
 * The input commitment a receipt and a result attestation carry:
 * `sha256Tagged('props/input-commitment/v1', JCS({ v: 1, proofs: [proofDigest(p) for p in submission order] }))`.
 * Order matters (it is the order the enclave ingested); anyone with the proofs (bodies not needed) recomputes it.
 */
export function inputCommitment(proofs: readonly ProvenanceProof[]): Hex {
  return toHex(sha256Tagged(TAGS.inputCommitment, canonicalBytes({ v: 1, proofs: proofs.map(proofDigest) })));
}

/**
 * RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key: the required members only, in lexicographic order,
 * no whitespace — exactly the RFC 8785 form of that member set.
 */
export function jwkThumbprint(jwk: PublicJwk): string {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y ?? '' }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return toBase64(sha256(canonicalBytes(members)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}
