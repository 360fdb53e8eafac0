// Domain-separated hashing. Every hash Props computes over structured data names its purpose in a tag,
// so a digest made for one purpose can never be replayed as another.
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { canonicalBytes } from './canonical.ts';
import { concatBytes, toHex, utf8, type Hex } from './bytes.ts';

export const TAGS = {
  code: 'props/code/v1',
  manifest: 'props/manifest/v1',
  policy: 'props/policy/v1',
  reportData: 'props/report-data/v1',
  evidence: 'props/evidence/v1',
  result: 'props/result/v1',
  inputCommitment: 'props/input-commitment/v1',
  simMrtd: 'props/sim/mrtd/v1',
  simRtmr: 'props/sim/rtmr/v1',
  simQuote: 'props/sim/quote/v1',
  bundle: 'props/bundle/v1',
} as const;

export type Tag = (typeof TAGS)[keyof typeof TAGS];

// Tag framing: u32 big-endian length of the tag, the tag bytes, then the data — unambiguous for any tag.
function frame(tag: string, data: Uint8Array): Uint8Array {
  const t = utf8(tag);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, t.length);
  return concatBytes(len, t, data);
}

export const sha256Tagged = (tag: string, data: Uint8Array): Uint8Array => sha256(frame(tag, data));
export const sha384Tagged = (tag: string, data: Uint8Array): Uint8Array => sha384(frame(tag, data));
export const sha512Tagged = (tag: string, data: Uint8Array): Uint8Array => sha512(frame(tag, data));
export const keccak256Tagged = (tag: string, data: Uint8Array): Uint8Array => keccak_256(frame(tag, data));

/** SHA-256 over the RFC 8785 canonical form of a JSON value, under a tag; 0x-hex. */
export function digestJson(tag: string, value: unknown): Hex {
  return toHex(sha256Tagged(tag, canonicalBytes(value)));
}

export { sha256, sha384, sha512, keccak_256 };
