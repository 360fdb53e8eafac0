// Writes what an auditor needs offline: the evidence, manifest and JWKS of the boot that signed the results, the
// results, and their log proofs (added by the caller from its log, or by `logBundleResults` where there is none).
import {
  BATCHED_RESULT_KIND,
  MerkleTree,
  parseAuditBundle,
  resultLeafHash,
  toHex,
  type AuditBundle,
  type BatchedResult,
  type Evidence,
  type Manifest,
  type PublicJwk,
  type ResultAttestation,
} from '../protocol/index.ts';
import { resultBodyOfJws } from '../verifier/index.ts';
import type { Enclave } from './boot.ts';
import { signTreeHead } from './log/sign-head.ts';

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

/**
 * For a bundle made outside the scoring service (the `props attest` demo, tests), which has no transparency log: the
 * enclave that signed the results keeps a log of just these results, in order, and signs its head, so each result
 * still carries its inclusion proof as `props verify` requires. Replaces any proofs the bundle held.
 */
export async function logBundleResults(
  enclave: Pick<Enclave, 'signJws' | 'keys'>,
  bundle: AuditBundle,
  now: Date,
): Promise<AuditBundle> {
  const tree = new MerkleTree();
  for (const { attestation: a } of bundle.results)
    tree.append(
      resultLeafHash(
        'kind' in a && a.kind === BATCHED_RESULT_KIND ? a.body : resultBodyOfJws((a as ResultAttestation).jws),
      ),
    );
  const head = await signTreeHead(enclave, {
    treeSize: tree.size,
    rootHash: toHex(tree.root()),
    timestamp: Math.floor(now.getTime() / 1000),
  });
  const logProofs = bundle.results.map((r, index) => ({
    type: 'props-log-inclusion',
    v: 1,
    requestId: r.request.requestId,
    index,
    treeSize: tree.size,
    leafHash: toHex(tree.leaf(index)),
    proof: tree.inclusionProof(index).map(toHex),
    signedTreeHead: head,
  }));
  return { ...bundle, logProofs };
}
