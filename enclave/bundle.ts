// Writes what an auditor needs offline: evidence, manifest, JWKS and results (proofs are added by later parts).
import { parseAuditBundle, type AuditBundle, type BatchedResult, type ResultAttestation } from '../protocol/index.ts';
import type { Enclave } from './boot.ts';

export function buildAuditBundle(
  enclave: Enclave,
  results: { request: { requestId: string; nonce: string }; attestation: ResultAttestation | BatchedResult }[],
  createdAt: Date,
): AuditBundle {
  return parseAuditBundle({
    version: 1,
    kind: 'props-audit-bundle',
    createdAt: createdAt.toISOString(),
    platform: enclave.evidence.platform,
    evidence: enclave.evidence,
    manifest: enclave.manifest,
    jwks: enclave.jwks,
    results,
    provenance: [],
    logProofs: [],
  });
}
