// A KMS's own boot: its keys (a JWS key that signs releases; its encryption slot holds the fleet data key's public
// half, so its evidence attests the key owners encrypt to; a fresh release key, with which a replica receives the
// secrets from a peer), its manifest (the shipped code, no model, its policy) and its evidence.
import type { KeyObject } from 'node:crypto';
import {
  digestJson,
  KMS_MODEL_HASH,
  parseManifest,
  TAGS,
  type Evidence,
  type Hex,
  type Manifest,
  type PublicJwk,
} from '../../protocol/index.ts';
import type { Policy } from '../../verifier/index.ts';
import { nodeEs256Signer, type JwsSigner } from '../jws-signer.ts';
import { generateEnclaveKeys, type Random } from '../keys.ts';
import { attest } from '../attest.ts';
import type { AttestationPlatform } from '../platforms/types.ts';

/** What a KMS judges askers by; its hash is the KMS manifest's policy hash, so replicas must share it. */
export type KmsPolicy = {
  /** The verifier policy instance and replica evidence must pass. */
  evidence: Policy;
  /** Whether simulated evidence is accepted: never on a production KMS. */
  allowSimulated: boolean;
};

export const kmsPolicyHash = (p: KmsPolicy): Hex =>
  digestJson(TAGS.policy, { kind: 'props-kms-policy', v: 1, evidence: p.evidence, allowSimulated: p.allowSimulated });

export type KmsIdentity = {
  readonly manifest: Manifest;
  readonly evidence: Evidence;
  readonly evidenceDigest: Hex;
  readonly signJws: JwsSigner;
  readonly releaseKey: KeyObject;
};

export async function bootKmsIdentity(o: {
  platform: AttestationPlatform;
  random: Random;
  codeHash: Hex;
  policy: KmsPolicy;
  dataKey: PublicJwk;
}): Promise<KmsIdentity> {
  const keys = await generateEnclaveKeys({ random: o.random });
  const publicKeys = { ...keys.public, encryption: o.dataKey, release: keys.public.encryption };
  const manifest = parseManifest({
    version: 1,
    platform: o.platform.platform,
    codeHash: o.codeHash,
    modelHash: KMS_MODEL_HASH,
    policyHash: kmsPolicyHash(o.policy),
    executionProvider: 'none',
    runtime: { node: process.versions.node, props: '0.1.0', role: 'kms' },
  });
  const { evidence, evidenceDigest } = await attest(o.platform, publicKeys, manifest);
  return {
    manifest,
    evidence,
    evidenceDigest,
    signJws: nodeEs256Signer(keys.jwsPrivateKey, keys.public.jws.kid),
    releaseKey: keys.encryptionPrivateKey,
  };
}
