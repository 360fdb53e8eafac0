// A stand-in enclave for oracle and ingest tests: real keys (ES256 JWS, ECDH-ES P-256 encryption), a structurally
// valid sim Evidence and Manifest binding them, and an injectable verifyEvidence. It proves nothing about hardware;
// the lead's sim platform replaces it in end-to-end tests.
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import {
  evidenceDigest,
  jwkThumbprint,
  manifestHash,
  type Evidence,
  type Manifest,
  type PublicJwk,
} from '../../protocol/index.ts';
import type { Policy } from '../../verifier/index.ts';
import type { VerifyEvidence } from '../../oracle/index.ts';
import { joseJwsSigner, type JwsSigner } from '../../enclave/jws-signer.ts';

const H = (c: string): `0x${string}` => `0x${c.repeat(32)}`;

export type FakeEnclave = {
  evidence: Evidence;
  manifest: Manifest;
  evidenceDigest: `0x${string}`;
  jwsKey: PublicJwk;
  encryptionKey: PublicJwk;
  decryptionKey: CryptoKey;
  signer: JwsSigner;
  policy: Policy;
  verifyOk: VerifyEvidence;
  verifyFail: VerifyEvidence;
};

async function publicOf(key: CryptoKey, alg: PublicJwk['alg'], use: PublicJwk['use']): Promise<PublicJwk> {
  const j = await exportJWK(key);
  const base = { kty: 'EC' as const, crv: 'P-256' as const, x: j.x as string, y: j.y as string };
  return { ...base, kid: jwkThumbprint({ ...base, kid: 'k', alg, use }), alg, use };
}

export async function fakeEnclave(): Promise<FakeEnclave> {
  const sig = await generateKeyPair('ES256', { extractable: true });
  const enc = await generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
  const jwsKey = await publicOf(sig.publicKey, 'ES256', 'sig');
  const encryptionKey = await publicOf(enc.publicKey, 'ECDH-ES+A256KW', 'enc');
  const manifest: Manifest = {
    version: 1,
    platform: 'sim',
    codeHash: H('c1'),
    modelHash: H('d2'),
    policyHash: H('e3'),
    executionProvider: 'cpu',
    runtime: { node: '20' },
  };
  const evidence: Evidence = {
    version: 1,
    platform: 'sim',
    quote: 'AAAA',
    collateral: null,
    keys: { jws: jwsKey, encryption: encryptionKey, chain: { scheme: 'p256', publicKey: `0x04${'ab'.repeat(64)}` } },
    manifestHash: manifestHash(manifest),
  };
  const policy: Policy = {
    version: 2,
    id: 'owner-test',
    evidence: { allowSimulated: true, allowDebug: false, platforms: { sim: { rootKeys: 'any' } } },
    manifest: { codeHashes: [manifest.codeHash], modelHashes: [manifest.modelHash], policyHashes: 'any' },
    result: { algorithms: ['ES256'], maxAgeSeconds: 600, clockSkewSeconds: 60, eip712Domains: 'any' },
    bundle: { requireLogInclusion: true },
  };
  return {
    evidence,
    manifest,
    evidenceDigest: evidenceDigest(evidence),
    jwsKey,
    encryptionKey,
    decryptionKey: enc.privateKey,
    signer: joseJwsSigner(sig.privateKey, jwsKey.kid),
    policy,
    verifyOk: async (e) => ({ ok: true, checks: [{ id: 'evidence.signature', ok: true }], keys: (e as Evidence).keys }),
    verifyFail: async () => ({
      ok: false,
      checks: [
        { id: 'evidence.parse', ok: true },
        { id: 'evidence.simulated', ok: false, code: 'ERR_EVIDENCE_SIMULATED_NOT_ALLOWED' },
      ],
      keys: undefined,
    }),
  };
}
