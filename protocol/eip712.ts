// EIP-712 types shared by the enclave (signer), the verifier and the contracts (PropsEscrow/PropsRegistry).
// The on-chain form of a result is a fixed-width struct; its `resultHash` commits to the full JWS payload (a tagged
// SHA-256, as every other JSON commitment of Props: the contracts take it as an opaque word and never recompute it).
import {
  domainSeparator as viemDomainSeparator,
  encodeAbiParameters,
  hashTypedData,
  keccak256,
  toBytes,
  type TypedDataDomain,
} from 'viem';
import { digestJson, keccak_256, sha256Digest, sha256TaggedJson, tagFrame, TAGS } from './hash.ts';
import { concatBytes, fromHex, HEX_NIBBLE, hexInto, toHex, utf8, type Hex } from './bytes.ts';
import type { Eip712DomainValue, Manifest, ResultBody } from './schemas.ts';

export const EIP712_DOMAIN_NAME = 'Props';
export const EIP712_DOMAIN_VERSION = '1';

/** The EIP-712 domain of a Props contract on a chain: results under the escrow's, checkpoints and registrations under the registry's. */
export function propsDomain(chainId: number, verifyingContract: Hex): Eip712DomainValue {
  return { name: EIP712_DOMAIN_NAME, version: EIP712_DOMAIN_VERSION, chainId, verifyingContract };
}

export const RESULT_TYPES = {
  PropsResult: [
    { name: 'requestId', type: 'bytes32' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'pipelineId', type: 'bytes32' },
    { name: 'resultHash', type: 'bytes32' },
    { name: 'inputCommitment', type: 'bytes32' },
    { name: 'score', type: 'uint16' },
    { name: 'approved', type: 'bool' },
    { name: 'issuedAt', type: 'uint64' },
  ],
} as const;

/** Auditor sign-off over a verifier's attestation result, collected k-of-n to register an enclave key. */
export const REGISTRATION_TYPES = {
  KeyRegistration: [
    { name: 'pipelineId', type: 'bytes32' },
    { name: 'keyId', type: 'bytes32' },
    { name: 'evidenceDigest', type: 'bytes32' },
    { name: 'earDigest', type: 'bytes32' },
    { name: 'expiresAt', type: 'uint64' },
  ],
} as const;

/**
 * A transparency-log head signed by an enclave's on-chain key and posted to PropsRegistry (domain: the registry).
 * `keyId` names the log (one log per enclave key); `treeSize` must only grow on chain.
 */
export const CHECKPOINT_TYPES = {
  Checkpoint: [
    { name: 'keyId', type: 'bytes32' },
    { name: 'treeSize', type: 'uint64' },
    { name: 'root', type: 'bytes32' },
  ],
} as const;

export type CheckpointMessage = { keyId: Hex; treeSize: bigint; root: Hex };

export type KeyRegistrationMessage = {
  pipelineId: Hex;
  keyId: Hex;
  evidenceDigest: Hex;
  earDigest: Hex;
  expiresAt: bigint;
};

export type ResultMessage = {
  requestId: Hex;
  nonce: Hex;
  pipelineId: Hex;
  resultHash: Hex;
  inputCommitment: Hex;
  score: number;
  approved: boolean;
  issuedAt: bigint;
};

/** SHA-256 commitment to the whole signed result statement (RFC 8785 canonical JSON, tag-framed). */
export function resultHash(body: ResultBody): Hex {
  return digestJson(TAGS.result, body);
}

export function resultMessage(body: ResultBody): ResultMessage {
  return {
    requestId: body.requestId as Hex,
    nonce: body.nonce as Hex,
    pipelineId: body.pipelineId as Hex,
    resultHash: resultHash(body),
    inputCommitment: body.inputCommitment as Hex,
    score: body.output.score,
    approved: body.output.decision === 'approve',
    issuedAt: BigInt(body.iat),
  };
}

export function toTypedDataDomain(d: Eip712DomainValue): TypedDataDomain {
  return { name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract as Hex };
}

/** The 32-byte EIP-712 digest a result's on-chain signature covers. */
export function resultDigest(domain: Eip712DomainValue, body: ResultBody): Hex {
  return resultDigestOf(domain, resultMessage(body));
}

// The hot path (one digest per scored result) hashes the fixed-width struct directly: 9 static words, no ABI
// walker. `eip712.test.ts` checks it against viem's hashTypedData/hashStruct on random messages.
const RESULT_TYPEHASH = keccak_256(
  utf8(
    'PropsResult(bytes32 requestId,bytes32 nonce,bytes32 pipelineId,bytes32 resultHash,bytes32 inputCommitment,uint16 score,bool approved,uint64 issuedAt)',
  ),
);
const domainSeparators = new Map<string, Uint8Array>();

function domainSeparatorOf(d: Eip712DomainValue): Uint8Array {
  const key = `${d.name}\u0000${d.version}\u0000${d.chainId}\u0000${d.verifyingContract.toLowerCase()}`;
  let sep = domainSeparators.get(key);
  if (!sep) {
    sep = fromHex(viemDomainSeparator({ domain: toTypedDataDomain(d) }), 32);
    if (domainSeparators.size > 64) domainSeparators.clear();
    domainSeparators.set(key, sep);
  }
  return sep;
}

// Nine static words written into one buffer (this runs for every scored result). The result hash comes as hex (a
// message) or as the 32 bytes just computed (`resultStructHashOf`).
function resultStructBytes(m: Omit<ResultMessage, 'resultHash'> & { resultHash: Hex | Uint8Array }): Uint8Array {
  if (!Number.isInteger(m.score) || m.score < 0 || m.score > 0xffff)
    throw new RangeError('eip712: score is not a uint16');
  if (typeof m.issuedAt !== 'bigint' || m.issuedAt < 0n || m.issuedAt >= 1n << 64n)
    throw new RangeError('eip712: issuedAt is not a uint64');
  const out = new Uint8Array(9 * 32);
  if (typeof m.resultHash === 'string') hexInto(m.resultHash, 32, out, 128);
  else if (m.resultHash.length !== 32) throw new RangeError('eip712: resultHash is not 32 bytes');
  else out.set(m.resultHash, 128);
  out.set(RESULT_TYPEHASH, 0);
  hexInto(m.requestId, 32, out, 32);
  hexInto(m.nonce, 32, out, 64);
  hexInto(m.pipelineId, 32, out, 96);
  hexInto(m.inputCommitment, 32, out, 160);
  const view = new DataView(out.buffer);
  view.setUint16(6 * 32 + 30, m.score);
  out[7 * 32 + 31] = m.approved ? 1 : 0;
  view.setBigUint64(8 * 32 + 24, m.issuedAt);
  return out;
}

/** EIP-712 digest of a result message under `domain`. */
export function resultDigestOf(domain: Eip712DomainValue, m: ResultMessage): Hex {
  return resultDigestOfStructHash(domain, keccak_256(resultStructBytes(m)));
}

/** EIP-712 digest under `domain` of a result whose struct hash is already known (`resultStructHashOf`). */
export function resultDigestOfStructHash(domain: Eip712DomainValue, structHash: Uint8Array): Hex {
  return toHex(keccak_256(concatBytes(Uint8Array.of(0x19, 0x01), domainSeparatorOf(domain), structHash)));
}

/**
 * `resultStructHash(resultMessage(body))` as bytes, without the hex round trips in between: the enclave computes it
 * once for every result it signs (its log leaf and its EIP-712 digest both come from it), the verifier for every
 * batched result it checks.
 */
export function resultStructHashOf(body: ResultBody): Uint8Array {
  return keccak_256(
    resultStructBytes({
      requestId: body.requestId as Hex,
      nonce: body.nonce as Hex,
      pipelineId: body.pipelineId as Hex,
      resultHash: sha256TaggedJson(TAGS.result, body),
      inputCommitment: body.inputCommitment as Hex,
      score: body.output.score,
      approved: body.output.decision === 'approve',
      issuedAt: BigInt(body.iat),
    }),
  );
}

// The members of a result statement that every result of one enclave batch shares, in RFC 8785 order around the
// per-result ones: consentRef | evidenceDigest executionProvider exp iat | inputCommitment | manifestHash modelHash |
// nonce output | pipelineId platform | requestId | typ v.
const SHARED_MEMBERS = [
  'evidenceDigest',
  'executionProvider',
  'exp',
  'iat',
  'manifestHash',
  'modelHash',
  'pipelineId',
  'platform',
  'typ',
  'v',
] as const;

// SHARED_MEMBERS spelled out: a loop over the names makes each lookup a keyed (megamorphic) one, ~30 µs a batch of 64.
function sharesMembers(a: ResultBody, b: ResultBody): boolean {
  return (
    a.evidenceDigest === b.evidenceDigest &&
    a.executionProvider === b.executionProvider &&
    a.exp === b.exp &&
    a.iat === b.iat &&
    a.manifestHash === b.manifestHash &&
    a.modelHash === b.modelHash &&
    a.pipelineId === b.pipelineId &&
    a.platform === b.platform &&
    a.typ === b.typ &&
    a.v === b.v
  );
}

// Each writer below puts its piece into `buf` at `at` and returns the end, or −1 when it cannot (no room, or text
// JSON would escape); −1 in gives −1 out, so a statement is written as one chain and checked once at the end.

// Printable ASCII other than quote and backslash: characters JSON writes as themselves.
function plainInto(s: string, buf: Uint8Array, at: number): number {
  if (at < 0 || at + s.length > buf.length) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
    buf[at + i] = c;
  }
  return at + s.length;
}

function quotedInto(s: unknown, buf: Uint8Array, at: number): number {
  if (at < 0 || typeof s !== 'string' || at + s.length + 2 > buf.length) return -1;
  buf[at] = 0x22;
  const end = plainInto(s, buf, at + 1);
  if (end < 0) return -1;
  buf[end] = 0x22;
  return end + 1;
}

function integerInto(n: unknown, buf: Uint8Array, at: number): number {
  return Number.isSafeInteger(n) ? plainInto(String(n), buf, at) : -1;
}

function bytesInto(part: Uint8Array, buf: Uint8Array, at: number): number {
  if (at < 0 || at + part.length > buf.length) return -1;
  buf.set(part, at);
  return at + part.length;
}

function codesInto(codes: readonly unknown[], buf: Uint8Array, at: number): number {
  let end = plainInto('[', buf, at);
  for (let i = 0; i < codes.length; i++) end = quotedInto(codes[i], buf, i === 0 ? end : plainInto(',', buf, end));
  return plainInto(']', buf, end);
}

// The template's fixed pieces between the output's members.
const OUTPUT_DECISION = utf8(',"output":{"decision":');
const OUTPUT_CODES = utf8(',"reasonCodes":');
const OUTPUT_SCORE = utf8(',"score":');
const OUTPUT_THRESHOLD = utf8(',"threshold":');

// A quoted 0x-hex string of 32 bytes, written as text and decoded into the struct in one pass; −1 for anything else.
function hex32Into(s: unknown, text: Uint8Array, at: number, struct: Uint8Array, off: number): number {
  if (
    at < 0 ||
    typeof s !== 'string' ||
    s.length !== 66 ||
    at + 68 > text.length ||
    s.charCodeAt(0) !== 0x30 ||
    s.charCodeAt(1) !== 0x78
  )
    return -1;
  text[at] = 0x22;
  text[at + 1] = 0x30;
  text[at + 2] = 0x78;
  for (let i = 0; i < 32; i++) {
    const a = s.charCodeAt(2 + 2 * i);
    const b = s.charCodeAt(3 + 2 * i);
    const hi = HEX_NIBBLE[a] ?? -1;
    const lo = HEX_NIBBLE[b] ?? -1;
    if (hi < 0 || lo < 0) return -1;
    text[at + 3 + 2 * i] = a;
    text[at + 4 + 2 * i] = b;
    struct[off + i] = (hi << 4) | lo;
  }
  text[at + 67] = 0x22;
  return at + 68;
}

/**
 * Writes a statement of one enclave batch for hashing, as bytes, with no text built: into `text` the tag-framed RFC
 * 8785 text its result hash is taken over (returning its length), into `struct` the nine EIP-712 struct words but
 * the result hash (bytes 128–159, left for the caller). −1 for a statement the batch's template cannot write — one
 * that differs from the batch's first in a shared member, has members outside the schema, strings JSON would escape,
 * ids that are not 32-byte hex, numbers that are not integers, a score that is not a uint16 — and such a statement is
 * hashed the general way (`resultStructHashOf`), which refuses what must be refused.
 */
type ResultBatchWriter = (body: ResultBody, text: Uint8Array, struct: Uint8Array) => number;

/** The writer for a batch whose first statement is `first` (SHARED_MEMBERS encoded once); undefined when it cannot make one. */
function resultBatchWriter(first: ResultBody): ResultBatchWriter | undefined {
  if (!SHARED_MEMBERS.every((k) => typeof first[k] === 'string' || Number.isSafeInteger(first[k]))) return undefined;
  const iat = first.iat;
  if (iat < 0) return undefined;
  const q = JSON.stringify;
  const p0 = concatBytes(tagFrame(TAGS.result), utf8('{"consentRef":'));
  const p1 = utf8(
    `,"evidenceDigest":${q(first.evidenceDigest)},"executionProvider":${q(first.executionProvider)},"exp":${q(first.exp)},"iat":${q(iat)},"inputCommitment":`,
  );
  const p2 = utf8(`,"manifestHash":${q(first.manifestHash)},"modelHash":${q(first.modelHash)},"nonce":`);
  const p3 = utf8(`},"pipelineId":${q(first.pipelineId)},"platform":${q(first.platform)},"requestId":`);
  const p4 = utf8(`,"typ":${q(first.typ)},"v":${q(first.v)}}`);
  // The struct's batch words: type hash, pipeline id and issuedAt.
  const base = new Uint8Array(9 * 32);
  base.set(RESULT_TYPEHASH, 0);
  hexInto(first.pipelineId, 32, base, 96);
  const baseView = new DataView(base.buffer);
  baseView.setUint32(8 * 32 + 24, Math.floor(iat / 2 ** 32));
  baseView.setUint32(8 * 32 + 28, iat >>> 0);
  return (body, text, struct) => {
    const o = body.output as Partial<ResultBody['output']> | null;
    if (typeof o !== 'object' || o === null || !Array.isArray(o.reasonCodes) || !sharesMembers(first, body)) return -1;
    const score = o.score as number;
    if (
      !(score >= 0 && score <= 0xffff) ||
      Object.keys(o).length !== 4 ||
      Object.keys(body).length !== 15 ||
      struct.length < base.length
    )
      return -1;
    struct.set(base, 0);
    let at = bytesInto(p0, text, 0); // frame, {"consentRef":
    at = quotedInto(body.consentRef, text, at);
    at = bytesInto(p1, text, at); // ,"evidenceDigest":…,"inputCommitment":
    at = hex32Into(body.inputCommitment, text, at, struct, 160);
    at = bytesInto(p2, text, at); // ,"manifestHash":…,"nonce":
    at = hex32Into(body.nonce, text, at, struct, 64);
    at = bytesInto(OUTPUT_DECISION, text, at);
    at = quotedInto(o.decision, text, at);
    at = bytesInto(OUTPUT_CODES, text, at);
    at = codesInto(o.reasonCodes, text, at);
    at = bytesInto(OUTPUT_SCORE, text, at);
    at = integerInto(score, text, at);
    at = bytesInto(OUTPUT_THRESHOLD, text, at);
    at = integerInto(o.threshold, text, at);
    at = bytesInto(p3, text, at); // },"pipelineId":…,"requestId":
    at = hex32Into(body.requestId, text, at, struct, 32);
    at = bytesInto(p4, text, at); // ,"typ":…}
    struct[6 * 32 + 30] = score >> 8;
    struct[6 * 32 + 31] = score & 0xff;
    struct[7 * 32 + 31] = o.decision === 'approve' ? 1 : 0;
    return at;
  };
}

/**
 * `bodies.map(resultStructHashOf)` for the statements of one enclave batch — the enclave's hot path after inference —
 * written by `resultBatchWriter` into two scratch buffers. Same digests (test/batched-result.test.ts checks it
 * against resultStructHashOf, statements that break the template included).
 */
export function resultStructHashesOf(bodies: readonly ResultBody[]): Uint8Array[] {
  const first = bodies[0];
  const writer = first === undefined ? undefined : resultBatchWriter(first);
  if (writer === undefined) return bodies.map(resultStructHashOf);
  const text = new Uint8Array(4096);
  const struct = new Uint8Array(9 * 32);
  return bodies.map((body) => {
    const n = writer(body, text, struct);
    if (n < 0) return resultStructHashOf(body);
    struct.set(sha256Digest(text.subarray(0, n)), 128);
    return keccak_256(struct);
  });
}

/**
 * EIP-712 hashStruct of a result message: the datum of the result's transparency-log leaf
 * (leaf = SHA-256(0x00 || structHash), RFC 9162), so the escrow recomputes the leaf from the same fields.
 */
export function resultStructHash(message: ResultMessage): Hex {
  return toHex(keccak_256(resultStructBytes(message)));
}

/** The 32-byte EIP-712 digest of a checkpoint under the registry's domain. */
export function checkpointDigest(domain: Eip712DomainValue, message: CheckpointMessage): Hex {
  return hashTypedData({
    domain: toTypedDataDomain(domain),
    types: CHECKPOINT_TYPES,
    primaryType: 'Checkpoint',
    message,
  });
}

/** The 32-byte EIP-712 digest an auditor signs to register an enclave key (registry's domain). */
export function keyRegistrationDigest(domain: Eip712DomainValue, message: KeyRegistrationMessage): Hex {
  return hashTypedData({
    domain: toTypedDataDomain(domain),
    types: REGISTRATION_TYPES,
    primaryType: 'KeyRegistration',
    message,
  });
}

const PIPELINE_TAG = keccak256(toBytes('props.pipeline.v1'));

/**
 * pipelineId = keccak256(abi.encode(keccak256("props.pipeline.v1"), codeHash, modelHash, policyHash,
 * keccak256(bytes(platform)))) — recomputable on chain from the registered fields.
 */
export function pipelineId(m: Pick<Manifest, 'codeHash' | 'modelHash' | 'policyHash' | 'platform'>): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
      [PIPELINE_TAG, m.codeHash as Hex, m.modelHash as Hex, m.policyHash as Hex, keccak256(toBytes(m.platform))],
    ),
  );
}

/** keyId = keccak256 of the uncompressed public key without its 0x04 prefix (x || y). */
export function chainKeyId(publicKey: Hex): Hex {
  return keccak256(`0x${publicKey.slice(4)}`);
}
