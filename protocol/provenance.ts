// Provenance wire formats: the attested-fetch record the enclave signs, the payload a source signs,
// and the envelope every proof travels in. The fetcher (enclave/oracle) produces these; verifier/provenance checks them.
import { z } from 'zod';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toHex, utf8, type Hex } from './bytes.ts';
import { canonicalBytes } from './canonical.ts';
import { sha256Tagged } from './hash.ts';
import { statement } from './records.ts';
import { compactJws, hex32 } from './schemas.ts';

export const PROVENANCE_KINDS = ['tlsn', 'reclaim', 'signed-source', 'attested-fetch'] as const;
export const provenanceKind = z.enum(PROVENANCE_KINDS);
export type ProvenanceKind = z.infer<typeof provenanceKind>;

export const PROVENANCE_TAGS = {
  /** Digest of a server certificate chain as the attested fetcher saw it. */
  certChain: 'props/tls-cert-chain/v1',
} as const;

/** A DNS host name as compared against policy: lower case, no port, no wildcard, no trailing dot. */
export const hostName = z
  .string()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
    'expected a lower-case host name',
  );

/** ISO 8601 UTC timestamp with a Z suffix (milliseconds optional). */
export const utcTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, 'expected ISO 8601 UTC time');

// ---------------------------------------------------------------- attested-fetch record
export const ATTESTED_FETCH_VERSION = 1;
/** JWS `typ` of the enclave's signature over an attested-fetch record. */
export const ATTESTED_FETCH_JWS_TYP = 'props-attested-fetch+json';
export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;

/**
 * What the enclave saw when it made the HTTPS request itself. The proof is a compact JWS (ES256, by the enclave's JWS
 * key, header `{alg:'ES256', typ: ATTESTED_FETCH_JWS_TYP, kid}`) whose payload is the RFC 8785 canonical JSON of this
 * record — use `attestedFetchPayload(record)` so producer and verifier sign/compare the same bytes.
 */
export const attestedFetchRecord = z.strictObject({
  version: z.literal(ATTESTED_FETCH_VERSION),
  kind: z.literal('attested-fetch'),
  /** Full request URL; https only. The bearer token is never part of it. */
  url: z
    .string()
    .max(2048)
    .regex(/^https:\/\/[^\s/?#@]+(\/[^\s#]*)?$/, 'expected an https URL without userinfo'),
  /** The host the fetcher pinned and validated the certificate for (equals the URL's host name, no port). */
  host: hostName,
  method: z.enum(['GET', 'POST']),
  status: z.number().int().min(100).max(599),
  tlsVersion: z.enum(TLS_VERSIONS),
  /** `certChainDigest(chain)` over the DER certificates the server presented, leaf first. */
  certChainSha256: hex32,
  /** When the response was received (the enclave's clock). */
  time: utcTime,
  /** Plain SHA-256 of the response body bytes exactly as received (`bodyDigest`). */
  bodySha256: hex32,
  bodyBytes: z
    .number()
    .int()
    .nonnegative()
    .max(64 * 1024 * 1024),
  /** Response Content-Type as sent by the server (lower case, parameters kept), or '' when absent. */
  contentType: z.string().max(256),
});
export type AttestedFetchRecord = z.infer<typeof attestedFetchRecord>;

/** The exact bytes the enclave signs for a record. */
export const attestedFetchPayload = (r: AttestedFetchRecord): Uint8Array => canonicalBytes(r);

/** Digest of a certificate chain: tagged SHA-256 over (u32 BE length ‖ DER) for each certificate, leaf first. */
export function certChainDigest(ders: readonly Uint8Array[]): Hex {
  const parts: Uint8Array[] = [];
  for (const der of ders) {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, der.length);
    parts.push(len, der);
  }
  return toHex(sha256Tagged(PROVENANCE_TAGS.certChain, concatBytes(...parts)));
}

/** Plain SHA-256 of a response body (untagged, so anyone holding the body can check it). */
export const bodyDigest = (body: Uint8Array | string): Hex =>
  toHex(sha256(typeof body === 'string' ? utf8(body) : body));

// ---------------------------------------------------------------- signed-source payload
export const SIGNED_SOURCE_VERSION = 1;
/** JWS `typ` a source uses when it signs its own records. */
export const SIGNED_SOURCE_JWS_TYP = 'props-statement+jwt';

/**
 * JWT claims a source signs (JWS, ES256 or EdDSA, header `{alg, typ: SIGNED_SOURCE_JWS_TYP, kid}` — `kid` from its
 * published JWKS). `iss` is the source's host name; `iat`/`exp` are seconds since the epoch.
 */
export const signedSourcePayload = z.strictObject({
  v: z.literal(SIGNED_SOURCE_VERSION),
  iss: hostName,
  sub: z.string().min(1).max(128),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
  statement,
});
export type SignedSourcePayload = z.infer<typeof signedSourcePayload>;

// ---------------------------------------------------------------- proof envelope
export const PROVENANCE_PROOF_VERSION = 1;
const MAX_PRESENTATION_HEX = 2 * 1024 * 1024;

/** A proof as it travels (file, submission, audit bundle). The verifier re-checks everything inside. */
export const provenanceProof = z.discriminatedUnion('kind', [
  z.strictObject({
    version: z.literal(PROVENANCE_PROOF_VERSION),
    kind: z.literal('tlsn'),
    /** bincode Presentation (tlsn 0.1.0-alpha.12), hex without 0x. */
    presentation: z
      .string()
      .max(MAX_PRESENTATION_HEX)
      .regex(/^([0-9a-f]{2})+$/, 'expected lower-case hex'),
  }),
  z.strictObject({
    version: z.literal(PROVENANCE_PROOF_VERSION),
    kind: z.literal('reclaim'),
    /** The Reclaim proof object ({claimData, identifier, signatures, witnesses, …}); verified structurally later. */
    claim: z.record(z.string(), z.unknown()),
  }),
  z.strictObject({
    version: z.literal(PROVENANCE_PROOF_VERSION),
    kind: z.literal('signed-source'),
    jws: compactJws,
  }),
  z.strictObject({
    version: z.literal(PROVENANCE_PROOF_VERSION),
    kind: z.literal('attested-fetch'),
    jws: compactJws,
    /** The response body, base64; present inside the enclave, absent when a proof is disclosed without records. */
    body: z
      .string()
      .max(96 * 1024 * 1024)
      .regex(/^[A-Za-z0-9+/]*={0,2}$/)
      .optional(),
  }),
]);
export type ProvenanceProof = z.infer<typeof provenanceProof>;
