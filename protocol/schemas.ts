// Versioned wire formats shared by every part. Objects are strict: an unknown field is a rejection.
import { z } from 'zod';
import { PropsError } from './errors.ts';
import { assertVersion, parseWith } from './parse.ts';

export const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, 'expected 0x + 64 lowercase hex');
export const hexBytes = z.string().regex(/^0x([0-9a-f]{2})*$/, 'expected 0x-hex bytes');
export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected an address');
export const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
export const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected base64url');
export const compactJws = z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/, 'expected compact JWS');

export const PLATFORMS = ['sim', 'tdx', 'sgx', 'sev-snp', 'nitro', 'nvidia'] as const;
export const platform = z.enum(PLATFORMS);
export type Platform = z.infer<typeof platform>;

/** Public JWKs we accept: EC P-256 (ES256 signatures, ECDH-ES encryption) or OKP Ed25519 / X25519. */
export const publicJwk = z.strictObject({
  kty: z.enum(['EC', 'OKP']),
  crv: z.enum(['P-256', 'Ed25519', 'X25519']),
  x: b64url,
  y: b64url.optional(),
  kid: z.string().min(1).max(128),
  alg: z.enum(['ES256', 'EdDSA', 'ECDH-ES', 'ECDH-ES+A256KW']),
  use: z.enum(['sig', 'enc']),
});
export type PublicJwk = z.infer<typeof publicJwk>;

export const SIGNER_SCHEMES = ['p256', 'secp256k1'] as const;
/** The enclave's on-chain key: P-256 (P256VERIFY precompile) or secp256k1 (ecrecover). */
export const chainKey = z.strictObject({
  scheme: z.enum(SIGNER_SCHEMES),
  publicKey: z.string().regex(/^0x04[0-9a-f]{128}$/, 'expected uncompressed SEC1 point'),
  address: address.optional(),
});
export type ChainKey = z.infer<typeof chainKey>;

export const enclaveKeys = z.strictObject({
  jws: publicJwk,
  chain: chainKey,
  encryption: publicJwk,
  /**
   * A fleet instance's one-boot key for its attested key release (protocol/kms.ts): the key-release service encrypts
   * the fleet's secrets to it. Absent on an enclave that keeps its own keys.
   */
  release: publicJwk.optional(),
});
export type EnclaveKeys = z.infer<typeof enclaveKeys>;

// ---------------------------------------------------------------- Manifest
export const MANIFEST_VERSION = 1;
export const manifest = z.strictObject({
  version: z.literal(MANIFEST_VERSION),
  platform,
  codeHash: hex32,
  modelHash: hex32,
  policyHash: hex32,
  executionProvider: z.enum(['cpu', 'cuda', 'none']),
  runtime: z.record(z.string().regex(/^[a-z0-9@/._-]{1,64}$/), z.string().max(64)),
});
export type Manifest = z.infer<typeof manifest>;

// ---------------------------------------------------------------- Evidence
export const EVIDENCE_VERSION = 1;
export const evidence = z.strictObject({
  version: z.literal(EVIDENCE_VERSION),
  platform,
  /** The platform's quote/report/document, base64. */
  quote: base64.max(2_000_000),
  /** What the quote was checked with (certificate chains, CRLs, TCB info), platform-specific, so bundles verify offline. */
  collateral: z.unknown(),
  keys: enclaveKeys,
  manifestHash: hex32,
});
export type Evidence = z.infer<typeof evidence>;

// ---------------------------------------------------------------- Result
export const RESULT_VERSION = 1;
export const DECISIONS = ['approve', 'decline'] as const;
export const resultOutput = z.strictObject({
  score: z.number().int().min(0).max(1000),
  decision: z.enum(DECISIONS),
  threshold: z.number().int().min(0).max(1000),
  reasonCodes: z.array(z.string().regex(/^[A-Z0-9_]{1,48}$/)).max(8),
});
export type ResultOutput = z.infer<typeof resultOutput>;

/** The JWS payload of a result attestation: the signed statement. */
export const resultBody = z.strictObject({
  v: z.literal(RESULT_VERSION),
  typ: z.literal('props-result'),
  platform,
  requestId: hex32,
  nonce: hex32,
  consentRef: hex32,
  output: resultOutput,
  inputCommitment: hex32,
  manifestHash: hex32,
  pipelineId: hex32,
  modelHash: hex32,
  evidenceDigest: hex32,
  executionProvider: z.enum(['cpu', 'cuda', 'none']),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().nonnegative(),
});
export type ResultBody = z.infer<typeof resultBody>;

export const eip712Domain = z.strictObject({
  name: z.string().max(64),
  version: z.string().max(16),
  chainId: z.number().int().positive(),
  verifyingContract: address,
});
export type Eip712DomainValue = z.infer<typeof eip712Domain>;

export const resultAttestation = z.strictObject({
  version: z.literal(RESULT_VERSION),
  jws: compactJws.max(16_384),
  eip712: z.strictObject({
    domain: eip712Domain,
    /** r || s, 64 bytes; for secp256k1 followed by v (65 bytes). */
    signature: z.string().regex(/^0x[0-9a-f]{128}([0-9a-f]{2})?$/),
  }),
});
export type ResultAttestation = z.infer<typeof resultAttestation>;

// ---------------------------------------------------------------- Batched result (helpers in result-batch.ts)
/** Largest batch one head may cover (a proof is then at most 12 hashes). */
export const MAX_BATCH_SIZE = 4096;

/** The JWS payload of a batch head: the signed statement. */
export const resultBatchHead = z.strictObject({
  v: z.literal(RESULT_VERSION),
  typ: z.literal('props-result-batch'),
  platform,
  manifestHash: hex32,
  pipelineId: hex32,
  evidenceDigest: hex32,
  size: z.number().int().min(1).max(MAX_BATCH_SIZE),
  root: hex32,
  iat: z.number().int().nonnegative(),
});
export type ResultBatchHead = z.infer<typeof resultBatchHead>;

export const BATCHED_RESULT_KIND = 'props-batched-result';
export const batchedResult = z.strictObject({
  version: z.literal(RESULT_VERSION),
  kind: z.literal(BATCHED_RESULT_KIND),
  /** The result statement itself (what a single result carries as its JWS payload). */
  body: resultBody,
  /** Compact JWS over the batch head, `typ: props-result-batch+jws`, by the evidence-bound JWS key. */
  head: compactJws.max(4096),
  index: z
    .number()
    .int()
    .nonnegative()
    .max(MAX_BATCH_SIZE - 1),
  /** RFC 9162 inclusion path, leaf to root. */
  path: z.array(hex32).max(12),
});
export type BatchedResult = z.infer<typeof batchedResult>;

// ---------------------------------------------------------------- Audit bundle
export const BUNDLE_VERSION = 1;
export const auditBundle = z.strictObject({
  version: z.literal(BUNDLE_VERSION),
  kind: z.literal('props-audit-bundle'),
  createdAt: z.string().datetime(),
  platform,
  evidence,
  manifest,
  jwks: z.strictObject({ keys: z.array(publicJwk).min(1).max(8) }),
  results: z
    .array(
      z.strictObject({
        request: z.strictObject({ requestId: hex32, nonce: hex32 }),
        /** Singly signed or batched (see result-batch.ts); verifyResult tells them apart by `kind`. */
        attestation: z.union([resultAttestation, batchedResult]),
      }),
    )
    .max(100_000),
  /**
   * Reserved for provenance proofs a data owner chooses to disclose; nothing verifies them in a bundle yet (`props
   * proof verify` checks one alone), so a bundle carrying any is malformed rather than silently passed.
   */
  provenance: z.array(z.unknown()).max(0),
  logProofs: z.array(z.unknown()).max(100_000),
});
export type AuditBundle = z.infer<typeof auditBundle>;

// ---------------------------------------------------------------- parsers
export function parseManifest(input: unknown): Manifest {
  assertVersion(input, 'version', [MANIFEST_VERSION]);
  return parseWith(manifest, input, 'ERR_INPUT_MALFORMED');
}

export function parseEvidence(input: unknown): Evidence {
  assertVersion(input, 'version', [EVIDENCE_VERSION]);
  if (typeof input === 'object' && input !== null && 'platform' in input) {
    const p = (input as { platform: unknown }).platform;
    if (!(PLATFORMS as readonly unknown[]).includes(p)) {
      throw new PropsError('ERR_UNKNOWN_PLATFORM', { detail: String(p).slice(0, 32) });
    }
  }
  return parseWith(evidence, input, 'ERR_EVIDENCE_MALFORMED');
}

export function parseResultAttestation(input: unknown): ResultAttestation {
  assertVersion(input, 'version', [RESULT_VERSION]);
  return parseWith(resultAttestation, input, 'ERR_RESULT_MALFORMED');
}

export function parseResultBody(input: unknown): ResultBody {
  assertVersion(input, 'v', [RESULT_VERSION]);
  return parseWith(resultBody, input, 'ERR_RESULT_MALFORMED');
}

export function parseAuditBundle(input: unknown): AuditBundle {
  assertVersion(input, 'version', [BUNDLE_VERSION]);
  if (typeof input === 'object' && input !== null && 'evidence' in input) {
    parseEvidence((input as { evidence: unknown }).evidence); // surfaces platform/version codes first
  }
  return parseWith(auditBundle, input, 'ERR_BUNDLE_MALFORMED');
}
