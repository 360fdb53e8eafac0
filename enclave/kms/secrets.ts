// An app's fleet secrets: generated once inside the first KMS, held in memory by KMS replicas and instances, and moved
// only inside a release JWE. The data key is a P-256 ECDH key (owners encrypt submissions to its public half, which
// every instance's evidence binds); the nullifier and seal keys are 32 random bytes.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { calculateJwkThumbprint } from 'jose';
import { PropsError, type FleetSecretsWire, type PublicJwk } from '../../protocol/index.ts';
import type { Random } from '../keys.ts';

export type FleetSecrets = {
  /** The data key's P-256 scalar. */
  readonly dataKey: Uint8Array;
  readonly nullifierKey: Uint8Array;
  readonly sealKey: Uint8Array;
};

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const P256_N = p256.Point.CURVE().n;

/** New secrets from the enclave's randomness (the data key's scalar drawn until it lies in [1, n)). */
export function generateFleetSecrets(random: Random): FleetSecrets {
  for (let i = 0; i < 64; i++) {
    const d = random(32);
    const v = BigInt(`0x${Buffer.from(d).toString('hex')}`);
    if (v > 0n && v < P256_N) return { dataKey: d, nullifierKey: random(32), sealKey: random(32) };
  }
  throw new PropsError('ERR_ENCLAVE_BOOT', { detail: 'randomness source failed' });
}

export const secretsToWire = (s: FleetSecrets): FleetSecretsWire => ({
  dataKey: b64u(s.dataKey),
  nullifierKey: b64u(s.nullifierKey),
  sealKey: b64u(s.sealKey),
});

/** Secrets from their wire form (already schema-checked); a data key that is no P-256 scalar is refused. */
export function secretsFromWire(w: FleetSecretsWire): FleetSecrets {
  const s = {
    dataKey: new Uint8Array(Buffer.from(w.dataKey, 'base64url')),
    nullifierKey: new Uint8Array(Buffer.from(w.nullifierKey, 'base64url')),
    sealKey: new Uint8Array(Buffer.from(w.sealKey, 'base64url')),
  };
  const d = BigInt(`0x${Buffer.from(s.dataKey).toString('hex')}`);
  if (s.dataKey.length !== 32 || d === 0n || d >= P256_N) throw new PropsError('ERR_KMS_ANSWER_MALFORMED');
  return s;
}

/** The data key as a private KeyObject (what opens submissions) and its public JWK (what evidence binds). */
export async function dataKeyPair(s: FleetSecrets): Promise<{ privateKey: KeyObject; publicJwk: PublicJwk }> {
  const pub = p256.getPublicKey(s.dataKey, false);
  const x = b64u(pub.subarray(1, 33));
  const y = b64u(pub.subarray(33, 65));
  const privateKey = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64u(s.dataKey), x, y }, format: 'jwk' });
  const kid = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x, y }, 'sha256');
  return { privateKey, publicJwk: { kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ECDH-ES', use: 'enc' } };
}
