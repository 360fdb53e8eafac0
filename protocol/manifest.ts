// Manifest digests: what the evidence binds (manifestHash) and what the chain registers (pipelineId).
import { digestJson, sha512Tagged, TAGS } from './hash.ts';
import { canonicalBytes } from './canonical.ts';
import type { Hex } from './bytes.ts';
import type { EnclaveKeys, Evidence, Manifest } from './schemas.ts';

export const manifestHash = (m: Manifest): Hex => digestJson(TAGS.manifest, m);

/** 64-byte report_data = SHA-512(tag, canonical {keys, manifestHash}): binds every enclave public key. */
export function reportDataFor(keys: EnclaveKeys, mHash: string): Uint8Array {
  return sha512Tagged(TAGS.reportData, canonicalBytes({ keys, manifestHash: mHash }));
}

export const evidenceDigest = (e: Evidence): Hex => digestJson(TAGS.evidence, e);
