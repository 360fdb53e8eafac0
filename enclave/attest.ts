// Evidence for an enclave's keys and manifest: report_data = H(keys, manifest hash), collected from the attestation
// platform and parsed into the wire format. The scoring enclave and the KMS both attest through here.
import {
  evidenceDigest as digestEvidence,
  manifestHash as hashManifest,
  parseEvidence,
  reportDataFor,
  toBase64,
  type EnclaveKeys,
  type Evidence,
  type Hex,
  type Manifest,
} from '../protocol/index.ts';
import type { AttestationPlatform } from './platforms/types.ts';

export type Attested = { evidence: Evidence; evidenceDigest: Hex; manifestHash: Hex };

export async function attest(platform: AttestationPlatform, keys: EnclaveKeys, manifest: Manifest): Promise<Attested> {
  const mHash = hashManifest(manifest);
  const collected = await platform.collect({ reportData: reportDataFor(keys, mHash), manifest, manifestHash: mHash });
  const evidence = parseEvidence({
    version: 1,
    platform: platform.platform,
    quote: toBase64(collected.quote),
    collateral: collected.collateral,
    keys,
    manifestHash: mHash,
  });
  return { evidence, evidenceDigest: digestEvidence(evidence), manifestHash: mHash };
}
