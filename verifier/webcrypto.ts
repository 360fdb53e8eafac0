// Signature checks on WebCrypto only, so the verifier runs unchanged in Node and in a browser.
import { PropsError, toHex, type ErrorCode } from '../protocol/index.ts';

const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** Imports an uncompressed SEC1 P-256 point (0x04‖x‖y) as a verify key; refuses points off the curve with `code`. */
export async function importP256(publicKey: Uint8Array, code: ErrorCode): Promise<CryptoKey> {
  if (publicKey.length !== 65 || publicKey[0] !== 4)
    throw new PropsError(code, { detail: 'not an uncompressed P-256 point' });
  try {
    return await crypto.subtle.importKey('raw', publicKey as BufferSource, P256, false, ['verify']);
  } catch (cause) {
    throw new PropsError(code, { detail: 'invalid P-256 public key', cause });
  }
}

/** ECDSA P-256 / SHA-256 over `data` with a raw r‖s signature. */
export async function verifyP256(key: CryptoKey, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  if (signature.length !== 64) return false;
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature as BufferSource, data as BufferSource);
}

const P256_HALF_N = 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8n;

/** Low-s check: on-chain verifiers (OpenZeppelin P256) accept only s ≤ n/2, so off-chain checks must agree. */
export function isLowS(signature: Uint8Array): boolean {
  return signature.length === 64 && BigInt(toHex(signature.subarray(32))) <= P256_HALF_N;
}
