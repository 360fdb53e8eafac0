// Byte and hex helpers with labelled checks (noble style): wrong type is a TypeError, wrong size a RangeError.
import { bytesToHex as nobleBytesToHex, hexToBytes as nobleHexToBytes, concatBytes } from '@noble/hashes/utils.js';

export type Hex = `0x${string}`;

export { concatBytes };

export function toHex(bytes: Uint8Array): Hex {
  return `0x${nobleBytesToHex(bytes)}`;
}

export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError('hex: expected string');
  const body = hex.startsWith('0x') ? hex.slice(2) : hex;
  const out = nobleHexToBytes(body);
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new RangeError(`hex: expected ${expectedLength} bytes, got ${out.length}`);
  }
  return out;
}

const encoder = new TextEncoder();
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Writes `s` as UTF-8 into `into` (which needs up to 3 bytes per UTF-16 code unit); the number of bytes written. */
export function utf8Into(s: string, into: Uint8Array): number {
  return encoder.encodeInto(s, into).written;
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(b64: string): Uint8Array {
  if (typeof b64 !== 'string') throw new TypeError('base64: expected string');
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Constant-shape comparison (JavaScript cannot promise constant time; see SECURITY.md). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
