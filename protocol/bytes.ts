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

/** Hex digit values by char code ('0'-'9', 'a'-'f', 'A'-'F'), −1 for every other code below 128. */
export const HEX_NIBBLE: Readonly<Int8Array> = new Int8Array(128).fill(-1);
const NIBBLE = HEX_NIBBLE as Int8Array;
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) NIBBLE[97 + i] = NIBBLE[65 + i] = 10 + i;

/**
 * Decodes 0x-hex of exactly `length` bytes into `out` at `offset` — `out.set(fromHex(hex, length), offset)` without
 * the allocation, for the per-result hot path. Refuses the same inputs fromHex does (RangeError / TypeError).
 */
export function hexInto(hex: string, length: number, out: Uint8Array, offset: number): void {
  if (typeof hex !== 'string') throw new TypeError('hex: expected string');
  const start = hex.startsWith('0x') ? 2 : 0;
  if (hex.length - start !== 2 * length)
    throw new RangeError(`hex: expected ${length} bytes, got ${(hex.length - start) / 2}`);
  for (let i = 0; i < length; i++) {
    const hi = NIBBLE[hex.charCodeAt(start + 2 * i)] ?? -1;
    const lo = NIBBLE[hex.charCodeAt(start + 2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) throw new RangeError(`hex: invalid character at ${start + 2 * i}`);
    out[offset + i] = (hi << 4) | lo;
  }
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
