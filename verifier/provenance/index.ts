// verifier/provenance: the sub-surface for checking proofs of origin. One entry, `verifyProvenance`, takes a
// proof envelope as untrusted input and dispatches on its kind; each kind's verifier is also exported on its own.
import {
  assertVersion,
  parseWith,
  PROVENANCE_KINDS,
  PROVENANCE_PROOF_VERSION,
  provenanceProof,
  PropsError,
} from '../../protocol/index.ts';
import { verifyAttestedFetch } from './attested-fetch.ts';
import { verifyReclaim } from './reclaim.ts';
import { verifySignedSource } from './signed-source.ts';
import { verifyTlsn } from './tlsn.ts';
import type { ProvenanceVerdict, VerifyProvenanceOptions } from './types.ts';

/** Verifies a provenance proof envelope (protocol `ProvenanceProof`) against policy; throws a coded error otherwise. */
export async function verifyProvenance(input: unknown, opts: VerifyProvenanceOptions): Promise<ProvenanceVerdict> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new PropsError('ERR_PROVENANCE_MALFORMED');
  const kind = (input as Record<string, unknown>).kind;
  // Kind before schema, so an unknown kind answers its own code rather than a generic schema error.
  if (!(PROVENANCE_KINDS as readonly unknown[]).includes(kind)) throw new PropsError('ERR_PROVENANCE_UNKNOWN_KIND');
  assertVersion(input, 'version', [PROVENANCE_PROOF_VERSION]);
  const proof = parseWith(provenanceProof, input, 'ERR_PROVENANCE_MALFORMED');
  switch (proof.kind) {
    case 'tlsn':
      return verifyTlsn(proof.presentation, opts);
    case 'reclaim':
      return verifyReclaim(proof.claim, opts);
    case 'signed-source':
      return verifySignedSource(proof.jws, opts);
    case 'attested-fetch':
      return verifyAttestedFetch(
        proof.body === undefined ? { jws: proof.jws } : { jws: proof.jws, body: proof.body },
        opts,
      );
  }
}

/**
 * A verifier bound to one policy (and optionally the enclave keys bound in already-verified evidence), in the shape an
 * ingest step injects: `(proof, { now }) => verdict`.
 */
export function provenanceVerifier(
  policy: VerifyProvenanceOptions['policy'],
  boundEnclaveKeys?: VerifyProvenanceOptions['boundEnclaveKeys'],
): (proof: unknown, ctx: { now: Date }) => Promise<ProvenanceVerdict> {
  return (proof, { now }) =>
    verifyProvenance(proof, boundEnclaveKeys ? { policy, now, boundEnclaveKeys } : { policy, now });
}

export { verifyTlsn, loadTlsnWasm, readRevealed, certifiedBody, isRevealed, presentationBytes } from './tlsn.ts';
export { verifyReclaim, reclaimIdentifier, reclaimSignedMessage, reclaimProof } from './reclaim.ts';
export { verifySignedSource } from './signed-source.ts';
export { verifyAttestedFetch, type AttestedFetchInput } from './attested-fetch.ts';
export {
  PROVENANCE_POLICY_VERSION,
  JWS_ALGORITHMS,
  provenancePolicySchema,
  parseProvenancePolicy,
  parseProvenancePolicyText,
  provenancePolicyHash,
  checkHost,
  checkFreshness,
  type ProvenancePolicy,
  type PinnedJwk,
  type JwsAlgorithm,
} from './policy.ts';
export {
  provenanceDigest,
  PROVENANCE_DIGEST_TAG,
  type ProvenanceVerdict,
  type RevealedRange,
  type VerifyProvenanceOptions,
} from './types.ts';
