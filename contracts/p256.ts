// The on-chain P-256 signature form (decided with the enclave): ECDSA P-256 with SHA-256 over the 32-byte EIP-712
// digest, s normalised low, encoded r‖s. Splitting helpers for the contracts' (qx, qy, r, s) arguments, and a
// signer for tests and the simulation (the enclave has its own in enclave/sign.ts).
import { sign as nodeSign, type KeyObject } from 'node:crypto';
import { PropsError, fromHex, toHex, type Hex } from '../protocol/index.ts';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** Split an uncompressed SEC1 public key (0x04‖x‖y) into the contracts' coordinates. */
export function splitPublicKey(publicKey: Hex): { qx: Hex; qy: Hex } {
  if (typeof publicKey !== 'string' || !/^0x04[0-9a-fA-F]{128}$/.test(publicKey)) {
    throw new PropsError('ERR_CHAIN_KEY_INVALID', { detail: 'expected an uncompressed P-256 public key' });
  }
  return { qx: `0x${publicKey.slice(4, 68)}`, qy: `0x${publicKey.slice(68)}` };
}

/** Split a 64-byte r‖s signature. */
export function splitSignature(signature: Hex): { r: Hex; s: Hex } {
  if (typeof signature !== 'string' || !/^0x[0-9a-fA-F]{128}$/.test(signature)) {
    throw new PropsError('ERR_CHAIN_KEY_INVALID', { detail: 'expected a 64-byte r||s signature' });
  }
  return { r: `0x${signature.slice(2, 66)}`, s: `0x${signature.slice(66)}` };
}

/** Sign an EIP-712 digest with a P-256 private key in the on-chain form (low-s r‖s). */
export function signDigestP256(privateKey: KeyObject, digest: Hex): Hex {
  const sig = nodeSign('sha256', fromHex(digest, 32), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const r = sig.subarray(0, 32);
  let s = BigInt(toHex(sig.subarray(32)));
  if (s > N / 2n) s = N - s;
  return `${toHex(r)}${s.toString(16).padStart(64, '0')}` as Hex;
}

/** Uncompressed SEC1 public key (0x04‖x‖y) of a P-256 key. */
export function publicKeyP256(key: KeyObject): Hex {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y)
    throw new PropsError('ERR_CHAIN_KEY_INVALID', { detail: 'not a P-256 key' });
  return `0x04${Buffer.from(jwk.x, 'base64url').toString('hex')}${Buffer.from(jwk.y, 'base64url').toString('hex')}`;
}
