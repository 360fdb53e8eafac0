// Provenance policy: which sources, signers and limits are acceptable. A versioned data file with every field
// required; "any" must be written out to waive a host pin. Verification (authentic?) lives in the per-kind modules.
import { z } from 'zod';
import {
  address,
  assertVersion,
  b64url,
  digestJson,
  hostName,
  parseJsonText,
  parseWith,
  PropsError,
  type Hex,
} from '../../protocol/index.ts';
import { verificationTime } from '../now.ts';

// 2: signed-source `kids` entries name the issuer hosts each key may sign for (v1 listed bare kids, so any pinned
// source key could sign records as any allowed host).
export const PROVENANCE_POLICY_VERSION = 2;

/** Asymmetric JWS algorithms only: no `none`, no HS* (a pinned public key must never become an HMAC secret). */
export const JWS_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'] as const;
export const jwsAlgorithm = z.enum(JWS_ALGORITHMS);
export type JwsAlgorithm = z.infer<typeof jwsAlgorithm>;

const hosts = z.union([z.literal('any'), z.array(hostName).max(256)]);

/** A pinned public JWK. Strict, so a private member (`d`, `p`, `k`, …) is a rejection, never silently used. */
export const pinnedJwk = z.strictObject({
  kty: z.enum(['EC', 'OKP', 'RSA']),
  kid: z.string().min(1).max(128),
  alg: jwsAlgorithm,
  crv: z.enum(['P-256', 'P-384', 'Ed25519']).optional(),
  x: b64url.optional(),
  y: b64url.optional(),
  n: b64url.optional(),
  e: b64url.optional(),
  use: z.literal('sig').optional(),
});
export type PinnedJwk = z.infer<typeof pinnedJwk>;

/** Compressed SEC1 secp256k1 key (TLSNotary notary), 0x-hex. */
export const notaryKey = z
  .string()
  .regex(/^0x0[23][0-9a-f]{64}$/, 'expected compressed SEC1 key (0x02/0x03 + 32 bytes)');

export const provenancePolicySchema = z.strictObject({
  version: z.literal(PROVENANCE_POLICY_VERSION),
  id: z.string().min(1).max(128),
  /** Oldest acceptable proof, measured from its own time (connection, claim, iat or fetch time). */
  maxAgeSeconds: z.number().int().positive(),
  /** Tolerance for a proof dated slightly after `now`. */
  clockSkewSeconds: z.number().int().nonnegative().max(600),
  /** Upper bound on sent + received transcript bytes (TLSNotary) or body bytes (attested fetch). */
  maxTranscriptBytes: z
    .number()
    .int()
    .positive()
    .max(64 * 1024 * 1024),
  tlsn: z.strictObject({ hosts, notaryKeys: z.array(notaryKey).max(64) }),
  reclaim: z.strictObject({ hosts, witnesses: z.array(address).max(64) }),
  signedSource: z.strictObject({
    hosts,
    algorithms: z.array(jwsAlgorithm).min(1),
    /** The pinned JWKS; a key is usable only when its `kid` is also listed in `kids`. */
    jwks: z.strictObject({ keys: z.array(pinnedJwk).max(64) }),
    /** Each usable kid and the exact `iss` hosts it may sign for, so one source's key never vouches for another's records. */
    kids: z
      .array(z.strictObject({ kid: z.string().min(1).max(128), issuers: z.array(hostName).min(1).max(64) }))
      .max(64)
      .refine((ks) => new Set(ks.map((k) => k.kid)).size === ks.length, 'duplicate kid'),
  }),
  attestedFetch: z.strictObject({
    hosts,
    algorithms: z.array(z.literal('ES256')).min(1),
    /** Enclave JWS keys trusted for fetch records (or pass the evidence-bound key at verification time). */
    enclaveKeys: z.array(pinnedJwk).max(64),
    /** HTTP statuses accepted as a successful fetch. */
    statuses: z.array(z.number().int().min(100).max(599)).min(1).max(64),
  }),
});
export type ProvenancePolicy = z.infer<typeof provenancePolicySchema>;

export function parseProvenancePolicy(input: unknown): ProvenancePolicy {
  assertVersion(input, 'version', [PROVENANCE_POLICY_VERSION]);
  return parseWith(provenancePolicySchema, input, 'ERR_PROVENANCE_POLICY_MALFORMED');
}

export function parseProvenancePolicyText(text: string): ProvenancePolicy {
  return parseProvenancePolicy(parseJsonText(text, 256 * 1024));
}

export const provenancePolicyHash = (p: ProvenancePolicy): Hex => digestJson('props/provenance-policy/v1', p);

/** Exact host comparison (no suffix or wildcard matching: `*.bank.com` never covers `other.bank.com`). */
export function checkHost(allowed: 'any' | readonly string[], host: string): void {
  if (allowed === 'any') return;
  if (!allowed.includes(host))
    throw new PropsError('ERR_PROVENANCE_HOST_NOT_ALLOWED', { detail: 'host not in policy' });
}

/** Freshness: proof time must lie in [now - maxAge, now + skew]. Times are seconds since the epoch. */
export function checkFreshness(policy: ProvenancePolicy, proofTimeS: number, now: Date): void {
  const nowS = Math.floor(verificationTime(now) / 1000);
  if (!Number.isFinite(proofTimeS)) throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'time' });
  if (proofTimeS > nowS + policy.clockSkewSeconds) throw new PropsError('ERR_PROVENANCE_FROM_FUTURE');
  if (nowS - proofTimeS > policy.maxAgeSeconds) throw new PropsError('ERR_PROVENANCE_STALE');
}
