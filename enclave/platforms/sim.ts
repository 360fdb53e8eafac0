// The simulated platform: a software "hardware" that measures the manifest into a TDX-shaped quote and signs it
// with an attestation key certified by a simulated root (generated per deployment, or loaded from config).
// Everything it produces says platform "sim"; verifiers refuse it unless their policy allows simulated evidence.
import { createPrivateKey, createPublicKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { p256 } from '@noble/curves/nist.js';
import {
  assembleSimQuote,
  canonicalBytes,
  encodeSimQuoteBody,
  sha256,
  simMeasurementsFor,
  toHex,
  type Hex,
  type SimCertPayload,
} from '../../protocol/index.ts';
import { systemRandom, type Random } from '../keys.ts';
import type { AttestationPlatform } from './types.ts';

export type SimRoot = { privateKey: KeyObject; publicKey: Uint8Array };

export type SimCollateral = {
  v: 1;
  kind: 'props-sim-collateral';
  rootPublicKey: Hex;
  /** Issuer-signed certificates, leaf last: [attestation key cert]. */
  chain: string[];
};

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function keyFromScalar(d: Uint8Array): { privateKey: KeyObject; publicKey: Uint8Array } {
  const pub = p256.getPublicKey(d, false);
  const privateKey = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: b64u(d), x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33)) },
    format: 'jwk',
  });
  return { privateKey, publicKey: pub };
}

function scalar(random: Random): Uint8Array {
  for (;;) {
    const d = random(32);
    if (p256.utils.isValidSecretKey(d)) return d;
  }
}

export function generateSimRoot(random: Random = systemRandom): SimRoot {
  return keyFromScalar(scalar(random));
}

/** Loads a sim root from a private JWK (config), so a deployment can keep one root across restarts. */
export function simRootFromJwk(jwk: unknown): SimRoot {
  const privateKey = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  const pubJwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const x = Buffer.from(String(pubJwk.x), 'base64url');
  const y = Buffer.from(String(pubJwk.y), 'base64url');
  return { privateKey, publicKey: Uint8Array.from([4, ...x, ...y]) };
}

export const simRootFingerprint = (pub: Uint8Array): Hex => toHex(sha256(pub));

export type SimPlatformOptions = {
  root?: SimRoot;
  clock?: () => Date;
  random?: Random;
  /** Report the debug attribute (for tests of debug refusal). */
  debug?: boolean;
  certLifetimeSeconds?: number;
};

export async function createSimPlatform(
  opts: SimPlatformOptions = {},
): Promise<AttestationPlatform & { root: SimRoot }> {
  const random = opts.random ?? systemRandom;
  const clock = opts.clock ?? (() => new Date());
  const root = opts.root ?? generateSimRoot(random);
  const ak = keyFromScalar(scalar(random));
  const now = Math.floor(clock().getTime() / 1000);
  const payload: SimCertPayload = {
    v: 1,
    typ: 'props-sim-cert',
    sub: 'sim-attestation-key',
    pub: toHex(ak.publicKey),
    iss: simRootFingerprint(root.publicKey),
    nbf: now - 60,
    exp: now + (opts.certLifetimeSeconds ?? 365 * 24 * 3600),
  };
  const cert = await new CompactSign(canonicalBytes(payload))
    .setProtectedHeader({ alg: 'ES256', typ: 'props-sim-cert+jws' })
    .sign(root.privateKey);
  const collateral: SimCollateral = {
    v: 1,
    kind: 'props-sim-collateral',
    rootPublicKey: toHex(root.publicKey),
    chain: [cert],
  };

  return {
    platform: 'sim',
    root,
    async collect({ reportData, manifest, manifestHash }) {
      const signed = encodeSimQuoteBody({
        ...simMeasurementsFor(manifest, manifestHash),
        reportData,
        debug: opts.debug ?? false,
      });
      const sig = nodeSign('sha256', signed, { key: ak.privateKey, dsaEncoding: 'ieee-p1363' });
      return { quote: assembleSimQuote(signed, sig, ak.publicKey.subarray(1)), collateral };
    },
  };
}
