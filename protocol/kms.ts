// The key-release protocol between a fleet's instances and its key-release service (`props kms`), and between KMS
// replicas. The KMS holds an app's fleet secrets and releases them, as a JWE to a key bound in the asker's evidence,
// only to an enclave whose evidence verifies and whose pipeline the registry approves for the app; instances also
// report their signed log heads to it, and read back the highest it witnessed.
import { z } from 'zod';
import { utf8, type Hex } from './bytes.ts';
import { keccak256Tagged, TAGS } from './hash.ts';
import { toHex } from './bytes.ts';
import { b64url, compactJws, evidence, hex32, manifest } from './schemas.ts';

/** The model hash a KMS's manifest carries: it runs no model, and this marks the manifest as a KMS's. */
export const KMS_MODEL_HASH: Hex = `0x${'00'.repeat(32)}`;

/** An app's id on chain: keccak-256 over the tagged name, so names and ids of other registries never collide. */
export const appIdOf = (name: string): Hex => toHex(keccak256Tagged(TAGS.app, utf8(name)));
export const APP_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** JWS/JWE `typ` of each signed or encrypted message. */
export const KMS_TYP = {
  request: 'props-kms-request+jws',
  release: 'props-kms-release+jws',
  releaseJwe: 'props-kms-release+jwe',
} as const;

/** How long a challenge may be answered, and the clock skew allowed on `iat`. */
export const KMS_CHALLENGE_TTL_SECONDS = 60;

/** GET /v1/kms: who the KMS is (its evidence and manifest) and which app it serves. */
export const kmsInfo = z.strictObject({
  v: z.literal(1),
  app: hex32,
  evidence,
  manifest,
  evidenceDigest: hex32,
});
export type KmsInfo = z.infer<typeof kmsInfo>;

/** POST /v1/kms/challenge answers a one-use nonce the release request must sign. */
export const kmsChallenge = z.strictObject({ nonce: hex32, expiresAt: z.number().int().positive() });
export type KmsChallenge = z.infer<typeof kmsChallenge>;

/** What the asker signs with its evidence-bound JWS key: whom it asks, for which app, with which challenge. */
export const releaseRequestClaims = z.strictObject({
  v: z.literal(1),
  typ: z.literal('props-kms-request'),
  app: hex32,
  /** The asked KMS's evidence digest: a request made for one KMS is refused by every other. */
  aud: hex32,
  /** The asker's own evidence digest (the evidence sent alongside). */
  sub: hex32,
  nonce: hex32,
  iat: z.number().int().nonnegative(),
});
export type ReleaseRequestClaims = z.infer<typeof releaseRequestClaims>;

/** POST /v1/kms/release: the asker's evidence and manifest, and its signed request. */
export const releaseRequest = z.strictObject({
  evidence: z.unknown(),
  manifest: z.unknown(),
  request: compactJws,
});
export type ReleaseRequest = z.infer<typeof releaseRequest>;

/** The app's fleet secrets, as raw 32-byte values in base64url. */
export const fleetSecretsWire = z.strictObject({
  /** The P-256 scalar of the fleet data key (data owners encrypt submissions to its public half). */
  dataKey: b64url.length(43),
  /** HMAC key of borrower nullifiers: one query count per borrower across instances and versions. */
  nullifierKey: b64url.length(43),
  /** For whatever else an instance must keep sealed. */
  sealKey: b64url.length(43),
});
export type FleetSecretsWire = z.infer<typeof fleetSecretsWire>;

/** Inside the release JWE: a JWS by the KMS's evidence-bound key, addressed to one asker and one challenge. */
export const releaseClaims = z.strictObject({
  v: z.literal(1),
  typ: z.literal('props-kms-release'),
  app: hex32,
  /** The KMS's evidence digest. */
  iss: hex32,
  /** The asker's evidence digest. */
  aud: hex32,
  nonce: hex32,
  iat: z.number().int().nonnegative(),
  secrets: fleetSecretsWire,
  /** To a replica only: every head the releasing KMS witnessed, so that a replica joining later starts from them. */
  heads: z
    .array(z.lazy(() => witnessedHead))
    .max(100_000)
    .optional(),
});
export type ReleaseClaims = z.infer<typeof releaseClaims>;

/** A release to a replica carries the witnessed heads: up to about 200 bytes each. */
export const releaseAnswer = z.strictObject({ release: z.string().max(32_000_000) });

/** POST /v1/kms/heads: an instance's latest signed head, with the consistency proof from the head last witnessed. */
export const witnessRequest = z.strictObject({
  evidence: z.unknown(),
  manifest: z.unknown(),
  head: z.unknown(),
  consistency: z.array(hex32).max(64).optional(),
});
export type WitnessRequest = z.infer<typeof witnessRequest>;

/** The highest head the KMS witnessed for a log (GET /v1/kms/heads/{logId}, and the answer to a report). */
export const witnessedHead = z.strictObject({
  logId: hex32,
  treeSize: z.number().int().nonnegative(),
  rootHash: hex32,
});
export type WitnessedHead = z.infer<typeof witnessedHead>;
