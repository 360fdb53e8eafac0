// Domain-separated hashing. Every hash Props computes over structured data names its purpose in a tag,
// so a digest made for one purpose can never be replayed as another.
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { keccak_256 as nobleKeccak256 } from '@noble/hashes/sha3.js';
import { createKeccak, createSHA256 } from 'hash-wasm';
import { canonicalJson } from './canonical.ts';
import { toHex, utf8, utf8Into, type Hex } from './bytes.ts';

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
  app: 'props/app/v1',
} as const;

export type Tag = (typeof TAGS)[keyof typeof TAGS];

// Tag framing: u32 big-endian length of the tag, the tag bytes, then the data — unambiguous for any tag.
const framePrefixes = new Map<string, Uint8Array>();
/** The framing every tagged hash puts before its data (a shared buffer: copy it, never write to it). */
export function tagFrame(tag: string): Uint8Array {
  return framePrefix(tag);
}
function framePrefix(tag: string): Uint8Array {
  let prefix = framePrefixes.get(tag);
  if (!prefix) {
    const t = utf8(tag);
    prefix = new Uint8Array(4 + t.length);
    new DataView(prefix.buffer).setUint32(0, t.length);
    prefix.set(t, 4);
    if (framePrefixes.size < 256) framePrefixes.set(tag, prefix);
  }
  return prefix;
}

function frame(tag: string, data: Uint8Array): Uint8Array {
  const prefix = framePrefix(tag);
  const out = new Uint8Array(prefix.length + data.length);
  out.set(prefix, 0);
  out.set(data, prefix.length);
  return out;
}

export const sha256Tagged = (tag: string, data: Uint8Array): Uint8Array => sha256Digest(frame(tag, data));
export const sha384Tagged = (tag: string, data: Uint8Array): Uint8Array => sha384(frame(tag, data));
export const sha512Tagged = (tag: string, data: Uint8Array): Uint8Array => sha512(frame(tag, data));
export const keccak256Tagged = (tag: string, data: Uint8Array): Uint8Array => keccak_256(frame(tag, data));

// keccak-256 runs per scored result (its EIP-712 struct hash, 288 bytes). @noble/hashes' pure-JS keccak costs ~15 µs
// for it here; hash-wasm's WebAssembly keccak 1.5 µs. The wasm instance is created asynchronously, so `initHashes()`
// (awaited at enclave boot, in benches and by the verifier when it likes) swaps it in; until then, and wherever
// WebAssembly is unavailable, noble answers. The Merkle tree's SHA-256 of short inputs (33 and 65 bytes) likewise:
// ~1 µs in wasm against ~2 µs in noble. All give identical digests to noble's (test/batched-result.test.ts,
// "hot-path hashing").
type SyncHash = (data: Uint8Array) => Uint8Array;
let fastKeccak: SyncHash | undefined;
let fastSha256: SyncHash | undefined;

// On Node, SHA-256 of longer inputs (result statements, ~860 bytes) goes to OpenSSL through node:crypto's one-shot
// `hash`, SHA-NI where the CPU has it: ~1.8 µs for 860 bytes against ~2.7 µs in wasm. A call costs ~1.3 µs whatever
// the length, so the tree's 33 and 65 bytes (~0.8 µs in wasm) stay in wasm; the two meet near 330 bytes. Looked up at
// run time (`process.getBuiltinModule`, Node ≥ 20.16), so the browser bundle of this module has no Node import.
const NATIVE_SHA256_MIN = 384;
type NativeHash = (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Uint8Array;
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as { hash?: NativeHash } | undefined;
const nativeHash =
  typeof nodeCrypto?.hash === 'function' && nativeHashWorks(nodeCrypto.hash) ? nodeCrypto.hash : undefined;
const nativeSha256: SyncHash | undefined = nativeHash
  ? (data) => {
      const b = nativeHash('sha256', data, 'buffer');
      return new Uint8Array(b.buffer, b.byteOffset, 32);
    }
  : undefined;
/** Whether `sha256Digest` hands inputs of 384 bytes and more to node:crypto here (Node ≥ 20.16; never in a browser). */
export const hasNativeSha256: boolean = nativeSha256 !== undefined;
// Used only where it answers as expected: bytes, and the SHA-256 of "abc" (FIPS 180-2's example).
function nativeHashWorks(hash: NativeHash): boolean {
  try {
    const d = hash('sha256', Uint8Array.of(0x61, 0x62, 0x63), 'buffer');
    return d instanceof Uint8Array && toHex(d) === '0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
  } catch {
    return false;
  }
}
let initializing: Promise<void> | undefined;

export function initHashes(): Promise<void> {
  initializing ??= Promise.all([createKeccak(256), createSHA256()]).then(
    ([k, h]) => {
      fastKeccak = (data) => {
        k.init();
        k.update(data);
        return k.digest('binary');
      };
      fastSha256 = (data) => {
        h.init();
        h.update(data);
        return h.digest('binary');
      };
    },
    () => undefined, // no WebAssembly: stay on noble
  );
  return initializing;
}

/** keccak-256 (the Ethereum variant). */
export function keccak_256(data: Uint8Array): Uint8Array {
  return fastKeccak ? fastKeccak(data) : nobleKeccak256(data);
}

/** SHA-256 of a byte string as a plain function (the `sha256` export stays noble's hash object for HMAC and curves). */
export function sha256Digest(data: Uint8Array): Uint8Array {
  if (nativeSha256 !== undefined && data.length >= NATIVE_SHA256_MIN) return nativeSha256(data);
  return fastSha256 ? fastSha256(data) : sha256(data);
}

// Scratch buffer for tag-framed canonical text: TextEncoder.encode allocates a fresh buffer per call (~2.5 µs for a
// result statement here), encodeInto writes into this one in ~0.1 µs. Only used synchronously, never handed out.
const SCRATCH_MAX = 64 * 1024;
let scratch = new Uint8Array(4096);

/** SHA-256 over the tag framing of a JSON value's RFC 8785 bytes: `sha256Tagged(tag, canonicalBytes(value))`. */
export function sha256TaggedJson(tag: string, value: unknown): Uint8Array {
  const text = canonicalJson(value);
  const prefix = framePrefix(tag);
  const need = prefix.length + text.length * 3; // UTF-8 is at most 3 bytes per UTF-16 code unit
  // The scratch grows to 64 KiB at most; a larger text gets a buffer of its own (kept by nothing).
  if (scratch.length < need && need <= SCRATCH_MAX)
    scratch = new Uint8Array(Math.min(SCRATCH_MAX, Math.max(need, scratch.length * 2)));
  const buf = need <= scratch.length ? scratch : new Uint8Array(need);
  buf.set(prefix, 0);
  const written = utf8Into(text, buf.subarray(prefix.length));
  return sha256Digest(buf.subarray(0, prefix.length + written));
}

/** SHA-256 over the RFC 8785 canonical form of a JSON value, under a tag; 0x-hex. */
export function digestJson(tag: string, value: unknown): Hex {
  return toHex(sha256TaggedJson(tag, value));
}

export { sha256, sha384, sha512 };
