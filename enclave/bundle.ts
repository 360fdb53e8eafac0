// Writes what an auditor needs offline: the evidence, manifest and JWKS of the boot that signed the results, the
// results, and (added by the caller) their log proofs.
import {
  parseAuditBundle,
  type AuditBundle,
  type BatchedResult,
  type Evidence,
  type Manifest,
  type PublicJwk,
  type ResultAttestation,
} from '../protocol/index.ts';

/** One enclave boot as a bundle names it (an `Enclave` is one; so is an archived boot). */
export type BootRecord = { evidence: Evidence; manifest: Manifest; jwks: { keys: PublicJwk[] } };

export function buildAuditBundle(
  boot: BootRecord,
  results: { request: { requestId: string; nonce: string }; attestation: ResultAttestation | BatchedResult }[],
  createdAt: Date,
): AuditBundle {
  return parseAuditBundle({
    version: 1,
    kind: 'props-audit-bundle',
    createdAt: createdAt.toISOString(),
    platform: boot.evidence.platform,
    evidence: boot.evidence,
    manifest: boot.manifest,
    jwks: boot.jwks,
    results,
    provenance: [],
    logProofs: [],
  });
}
