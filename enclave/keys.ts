// The enclave's keys, generated at boot from injected randomness: a JWS key (ES256), an on-chain key behind one
// signer interface (P-256 by default: 36 µs per signature in node:crypto and a 6,900-gas P256VERIFY on chain;
// secp256k1 for ecrecover-only chains), and an ECDH-ES key for JWE submissions. Private keys never leave this module
// except as KeyObjects handed to the signer and the decryptor.
import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { sign as viemSign, serializeSignature } from 'viem/accounts';
import { publicKeyToAddress } from 'viem/utils';
import { PropsError, toHex, type ChainKey, type EnclaveKeys, type Hex, type PublicJwk } from '../protocol/index.ts';
import { secp256k1 } from '@noble/curves/secp256k1.js';

export type Random = (n: number) => Uint8Array;
export const systemRandom: Random = (n) => crypto.getRandomValues(new Uint8Array(n));

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const P256_N = p256.Point.CURVE().n;
const P256_HALF_N = P256_N >> 1n;

/** One signer interface for the on-chain key, whatever the scheme. */
export interface ChainSigner {
  readonly scheme: ChainKey['scheme'];
  readonly publicKey: Hex;
  readonly address?: Hex;
  /** Signs a 32-byte EIP-712 digest; returns r||s (P-256, SHA-256 over the digest, low-s) or r||s||v (secp256k1). */
  signDigest(digest: Uint8Array): Promise<Hex>;
}

function randomScalar(random: Random, n: bigint): Uint8Array {
  for (let i = 0; i < 64; i++) {
    const d = random(32);
    const v = BigInt(toHex(d));
    if (v > 0n && v < n) return d;
  }
  throw new PropsError('ERR_ENCLAVE_BOOT', { detail: 'randomness source failed' });
}

type P256Pair = { privateKey: KeyObject; jwk: { x: string; y: string }; uncompressed: Uint8Array };

function p256Pair(random: Random): P256Pair {
  const d = randomScalar(random, P256_N);
  const uncompressed = p256.getPublicKey(d, false);
  const x = b64u(uncompressed.subarray(1, 33));
  const y = b64u(uncompressed.subarray(33, 65));
  const privateKey = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64u(d), x, y }, format: 'jwk' });
  d.fill(0);
  return { privateKey, jwk: { x, y }, uncompressed };
}

/** P-256 on-chain signer: ECDSA with SHA-256 over the 32-byte digest (what OpenZeppelin's P256 + sha256 verifies). */
export function p256ChainSigner(pair: P256Pair): ChainSigner {
  return {
    scheme: 'p256',
    publicKey: toHex(pair.uncompressed),
    async signDigest(digest) {
      if (digest.length !== 32) throw new RangeError('digest: expected 32 bytes');
      // The callback form signs on libuv's thread pool, off the event loop (the service signs one digest per result).
      const sig = await new Promise<Uint8Array>((resolve, reject) =>
        nodeSign('sha256', digest, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' }, (err, out) =>
          err ? reject(err) : resolve(out),
        ),
      );
      let s = BigInt(toHex(sig.subarray(32)));
      if (s > P256_HALF_N) s = P256_N - s; // low-s: one valid encoding per signature
      return `${toHex(sig.subarray(0, 32))}${s.toString(16).padStart(64, '0')}` as Hex;
    },
  };
}

export function secp256k1ChainSigner(random: Random): ChainSigner {
  const d = randomScalar(random, secp256k1.Point.CURVE().n);
  const privateKey = toHex(d);
  const publicKey = toHex(secp256k1.getPublicKey(d, false));
  const address = publicKeyToAddress(publicKey);
  return {
    scheme: 'secp256k1',
    publicKey,
    address,
    async signDigest(digest) {
      const sig = await viemSign({ hash: toHex(digest), privateKey });
      return serializeSignature(sig);
    },
  };
}

export type EnclaveKeyMaterial = {
  /** Public keys, exactly as bound in the evidence. */
  public: EnclaveKeys;
  jwsPrivateKey: KeyObject;
  encryptionPrivateKey: KeyObject;
  chainSigner: ChainSigner;
};

async function publicJwk(pair: P256Pair, alg: PublicJwk['alg'], use: PublicJwk['use']): Promise<PublicJwk> {
  const base: JWK = { kty: 'EC', crv: 'P-256', x: pair.jwk.x, y: pair.jwk.y };
  const kid = await calculateJwkThumbprint(base, 'sha256');
  return { kty: 'EC', crv: 'P-256', x: pair.jwk.x, y: pair.jwk.y, kid, alg, use };
}

export async function generateEnclaveKeys(
  opts: { random?: Random; chainScheme?: ChainKey['scheme'] } = {},
): Promise<EnclaveKeyMaterial> {
  const random = opts.random ?? systemRandom;
  const jws = p256Pair(random);
  const enc = p256Pair(random);
  const scheme = opts.chainScheme ?? 'p256';
  let chainSigner: ChainSigner;
  if (scheme === 'p256') chainSigner = p256ChainSigner(p256Pair(random));
  else if (scheme === 'secp256k1') chainSigner = secp256k1ChainSigner(random);
  else throw new PropsError('ERR_SIGNER_SCHEME_UNSUPPORTED', { detail: String(scheme) });
  const chain: ChainKey = chainSigner.address
    ? { scheme: chainSigner.scheme, publicKey: chainSigner.publicKey, address: chainSigner.address }
    : { scheme: chainSigner.scheme, publicKey: chainSigner.publicKey };
  return {
    public: { jws: await publicJwk(jws, 'ES256', 'sig'), chain, encryption: await publicJwk(enc, 'ECDH-ES', 'enc') },
    jwsPrivateKey: jws.privateKey,
    encryptionPrivateKey: enc.privateKey,
    chainSigner,
  };
}
