// Batched result attestation: one ES256 signature over the RFC 9162 root of a batch, each result carrying its
// statement and inclusion proof. Round trips for several sizes, then each attack by name with its stable code.
import { describe, expect, it } from 'vitest';
import { CompactSign } from 'jose';
import {
  fromHex,
  keccak_256,
  initHashes,
  sha256Digest,
  hasNativeSha256,
  leafHash,
  resultMessage,
  resultStructHash,
  resultStructHashOf,
  resultStructHashesOf,
  hexInto,
  resultDigest,
  resultDigestOfStructHash,
  resultHash,
  sha256Tagged,
  sha256TaggedJson,
  canonicalBytes,
  TAGS,
  tagFrame,
  utf8,
  toHex,
  type BatchedResult,
  type ResultBody,
} from '../protocol/index.ts';
import { keccak_256 as nobleKeccak } from '@noble/hashes/sha3.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import canonicalizeModule from 'canonicalize';
import type { Policy } from '../verifier/index.ts';
import { commitInputs, DEMO_OUTPUT, SAMPLE_STATEMENT, type BatchItem, type Enclave } from '../enclave/index.ts';
import { fixedClock, hex32, resultCodesFor, simEnclave } from '../testing/enclave.ts';

const id = (i: number) => `0x${i.toString(16).padStart(64, '0')}` as const;
const items = (n: number): BatchItem[] =>
  Array.from({ length: n }, (_, i) => ({
    request: { requestId: id(i + 1), nonce: id(1000 + i), consentRef: hex32('33') },
    output: { ...DEMO_OUTPUT, score: (DEMO_OUTPUT.score + i) % 1001 },
    inputCommitment: commitInputs(SAMPLE_STATEMENT),
  }));

const codes = (
  enclave: Enclave,
  result: unknown,
  o: { expected?: { requestId: string; nonce: string }; policy?: Policy; store?: Set<string> } = {},
) =>
  resultCodesFor(enclave, result, {
    ...(o.expected ? { expected: o.expected } : {}),
    ...(o.policy ? { policy: o.policy } : {}),
    ...(o.store ? { nonceStore: o.store } : {}),
  });

describe('batched results: round trip', () => {
  it.each([1, 2, 3, 7, 64, 65])('every result of a batch of %i verifies, answering its own request', async (n) => {
    const enclave = await simEnclave({ clock: fixedClock() });
    const { results, head, leaves, structHashes } = await enclave.signResultBatch(items(n));
    expect(results).toHaveLength(n);
    expect(new Set(results.map((r) => r.head))).toEqual(new Set([head]));
    for (const [i, r] of results.entries()) {
      const v = await codes(enclave, r, { expected: { requestId: id(i + 1), nonce: id(1000 + i) } });
      expect(v.codes).toEqual([]);
      expect(v.ok).toBe(true);
      expect(v.checks.map((c) => c.id)).toContain('result.batch');
      expect(v.body?.output.score).toBe((DEMO_OUTPUT.score + i) % 1001);
      // The batch leaf is the transparency log's (and the escrow's) leaf for this result.
      expect(toHex(leaves[i]!)).toBe(toHex(leafHash(fromHex(resultStructHash(resultMessage(r.body)), 32))));
      expect(structHashes[i]).toBe(resultStructHash(resultMessage(r.body)));
    }
  });

  it('refuses an empty batch and one over the maximum (ERR_INPUT_MALFORMED)', async () => {
    const enclave = await simEnclave({ clock: fixedClock() });
    await expect(enclave.signResultBatch([])).rejects.toMatchObject({ code: 'ERR_INPUT_MALFORMED' });
    await expect(enclave.signResultBatch(items(4097))).rejects.toMatchObject({ code: 'ERR_INPUT_MALFORMED' });
  });
});

describe('batched results: attacks', () => {
  async function batch(n = 8) {
    const enclave = await simEnclave({ clock: fixedClock() });
    return { enclave, ...(await enclave.signResultBatch(items(n))) };
  }
  const withBody = (r: BatchedResult, f: (b: ResultBody) => void): BatchedResult => {
    const c = structuredClone(r);
    f(c.body);
    return c;
  };

  it('score raised in a batched result: refused (ERR_RESULT_BATCH_PROOF_INVALID)', async () => {
    const { enclave, results } = await batch();
    const forged = withBody(results[2]!, (b) => (b.output.score = 999));
    expect((await codes(enclave, forged)).codes).toEqual(['ERR_RESULT_BATCH_PROOF_INVALID']);
  });

  it('decline turned into approve: refused (ERR_RESULT_BATCH_PROOF_INVALID)', async () => {
    const { enclave, results } = await batch();
    // The threshold moves with the decision, so the forged output is self-consistent and only the leaf refuses it.
    const forged = withBody(results[0]!, (b) => {
      b.output.decision = b.output.decision === 'approve' ? 'decline' : 'approve';
      b.output.threshold = b.output.decision === 'approve' ? 0 : 1000;
    });
    expect((await codes(enclave, forged)).codes).toEqual(['ERR_RESULT_BATCH_PROOF_INVALID']);
  });

  it('inconsistent decision in a signed batch: an approve below the threshold is refused (ERR_RESULT_DECISION_INCONSISTENT)', async () => {
    const enclave = await simEnclave({ clock: fixedClock() });
    const { results } = await enclave.signResultBatch(
      items(2).map((x) => ({
        ...x,
        output: { score: 10, decision: 'approve' as const, threshold: 900, reasonCodes: [] },
      })),
    );
    const v = await codes(enclave, results[1]!, { expected: { requestId: id(2), nonce: id(1001) } });
    expect(v.codes).toEqual(['ERR_RESULT_DECISION_INCONSISTENT']);
    expect(v.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['result.binding']);
  });

  it('result re-pointed at another request: refused (ERR_RESULT_BATCH_PROOF_INVALID)', async () => {
    const { enclave, results } = await batch();
    const forged = withBody(results[1]!, (b) => (b.requestId = id(77)));
    expect((await codes(enclave, forged)).codes).toEqual(['ERR_RESULT_BATCH_PROOF_INVALID']);
  });

  it('proof of a sibling result presented for this one (index swap): refused (ERR_RESULT_BATCH_PROOF_INVALID)', async () => {
    const { enclave, results } = await batch();
    expect((await codes(enclave, { ...results[3]!, index: 4 })).codes).toEqual(['ERR_RESULT_BATCH_PROOF_INVALID']);
    expect((await codes(enclave, { ...results[3]!, path: results[4]!.path })).codes).toEqual([
      'ERR_RESULT_BATCH_PROOF_INVALID',
    ]);
  });

  it('truncated or padded inclusion path: refused (ERR_RESULT_BATCH_PROOF_INVALID)', async () => {
    const { enclave, results } = await batch();
    expect((await codes(enclave, { ...results[3]!, path: results[3]!.path.slice(1) })).codes).toEqual([
      'ERR_RESULT_BATCH_PROOF_INVALID',
    ]);
    expect((await codes(enclave, { ...results[3]!, path: [...results[3]!.path, hex32('ab')] })).codes).toEqual([
      'ERR_RESULT_BATCH_PROOF_INVALID',
    ]);
  });

  it('index beyond the signed batch size: refused (ERR_RESULT_BATCH_PROOF_INVALID)', async () => {
    const { enclave, results } = await batch(8);
    expect((await codes(enclave, { ...results[7]!, index: 8 })).codes).toEqual(['ERR_RESULT_BATCH_PROOF_INVALID']);
  });

  it('result of one batch spliced under the head of another: refused (ERR_RESULT_BATCH_PROOF_INVALID)', async () => {
    const enclave = await simEnclave({ clock: fixedClock() });
    const a = await enclave.signResultBatch(items(4));
    const b = await enclave.signResultBatch(items(4).map((x) => ({ ...x, output: { ...x.output, score: 1 } })));
    expect((await codes(enclave, { ...a.results[0]!, head: b.head })).codes).toEqual([
      'ERR_RESULT_BATCH_PROOF_INVALID',
    ]);
  });

  it('batch head from another enclave key: refused (ERR_RESULT_SIGNATURE_INVALID)', async () => {
    const { enclave, results } = await batch();
    const other = await simEnclave({ clock: fixedClock(), seed: 'other-enclave' });
    const foreign = await other.signResultBatch(items(8));
    // Same kid claimed, different key: the signature fails under the evidence-bound key.
    const [h, p, s] = foreign.head.split('.');
    const [ownH] = results[0]!.head.split('.');
    expect((await codes(enclave, { ...foreign.results[0]!, head: `${ownH}.${p}.${s}` })).codes).toEqual([
      'ERR_RESULT_SIGNATURE_INVALID',
    ]);
    // Its own kid: not the key this evidence binds.
    expect((await codes(enclave, { ...foreign.results[0]!, head: `${h}.${p}.${s}` })).codes).toEqual([
      'ERR_RESULT_KEY_NOT_BOUND',
    ]);
  });

  it('head payload re-signed by an attacker key claiming the enclave kid: refused (ERR_RESULT_SIGNATURE_INVALID)', async () => {
    const { enclave, results } = await batch();
    const { generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256');
    const payload = results[0]!.head.split('.')[1]!;
    const forgedHead = await new CompactSign(Buffer.from(payload, 'base64url'))
      .setProtectedHeader({ alg: 'ES256', kid: enclave.jwks.keys[0]!.kid, typ: 'props-result-batch+jws' })
      .sign(privateKey);
    expect((await codes(enclave, { ...results[0]!, head: forgedHead })).codes).toEqual([
      'ERR_RESULT_SIGNATURE_INVALID',
    ]);
  });

  it('single-result JWS presented as a batch head (type confusion): refused (ERR_RESULT_MALFORMED)', async () => {
    const { enclave, results } = await batch();
    const single = await enclave.signResult(items(1)[0]!.request, DEMO_OUTPUT, commitInputs(SAMPLE_STATEMENT));
    expect((await codes(enclave, { ...results[0]!, head: single.jws })).codes).toEqual(['ERR_RESULT_MALFORMED']);
  });

  it('batch head algorithm switched to none/HS256: refused (ERR_RESULT_ALG_NOT_ALLOWED)', async () => {
    const { enclave, results } = await batch();
    const [, p, s] = results[0]!.head.split('.');
    const hdr = Buffer.from(
      JSON.stringify({ alg: 'HS256', kid: enclave.jwks.keys[0]!.kid, typ: 'props-result-batch+jws' }),
    ).toString('base64url');
    expect((await codes(enclave, { ...results[0]!, head: `${hdr}.${p}.${s}` })).codes).toEqual([
      'ERR_RESULT_ALG_NOT_ALLOWED',
    ]);
  });

  it('batched result with an unknown field or version: refused (ERR_RESULT_MALFORMED, ERR_UNKNOWN_VERSION)', async () => {
    const { enclave, results } = await batch();
    expect((await codes(enclave, { ...results[0]!, eip712: {} })).codes).toEqual(['ERR_RESULT_MALFORMED']);
    expect((await codes(enclave, { ...results[0]!, version: 2 })).codes).toEqual(['ERR_UNKNOWN_VERSION']);
  });

  it('batched result replayed with the same nonce: refused the second time (ERR_RESULT_NONCE_REPLAYED)', async () => {
    const { enclave, results } = await batch();
    const store = new Set<string>();
    expect((await codes(enclave, results[0]!, { store })).ok).toBe(true);
    expect((await codes(enclave, results[0]!, { store })).codes).toEqual(['ERR_RESULT_NONCE_REPLAYED']);
  });

  it('batched result for another request: refused (ERR_RESULT_REQUEST_MISMATCH)', async () => {
    const { enclave, results } = await batch();
    expect((await codes(enclave, results[0]!, { expected: { requestId: id(2), nonce: id(1000) } })).codes).toEqual([
      'ERR_RESULT_REQUEST_MISMATCH',
    ]);
  });

  it('batched result verified against another enclave’s evidence: refused (ERR_RESULT_KEY_NOT_BOUND)', async () => {
    const { results } = await batch();
    const other = await simEnclave({ clock: fixedClock(), seed: 'other-enclave' });
    expect((await codes(other, results[0]!)).codes).toEqual(['ERR_RESULT_KEY_NOT_BOUND']);
  });
});

describe('hot-path hashing', () => {
  it('hexInto writes what fromHex returns, and refuses what fromHex refuses', () => {
    const out = new Uint8Array(40).fill(0xee);
    const hex = `0x${'0123456789abcdefABCDEF'.repeat(3).slice(0, 64)}`;
    hexInto(hex, 32, out, 4);
    expect(toHex(out.subarray(4, 36))).toBe(toHex(fromHex(hex, 32)));
    expect([...out.subarray(0, 4), ...out.subarray(36)]).toEqual(new Array(8).fill(0xee));
    hexInto(hex.slice(2), 32, out, 0); // fromHex takes hex without 0x too
    expect(toHex(out.subarray(0, 32))).toBe(toHex(fromHex(hex, 32)));
    for (const bad of [
      `0x${'0'.repeat(62)}`,
      `0x${'0'.repeat(66)}`,
      `0x${'0'.repeat(63)}g`,
      `0x${'0'.repeat(63)} `,
      `0x${'0'.repeat(63)}\u00e9`,
    ]) {
      expect(() => hexInto(bad, 32, out, 0)).toThrow(RangeError);
      expect(() => fromHex(bad, 32)).toThrow();
    }
    expect(() => hexInto(42 as unknown as string, 32, out, 0)).toThrow(TypeError);
  });

  it('resultStructHashesOf(batch) equals resultStructHashOf of each statement, also for statements that break the batch template', async () => {
    await initHashes();
    const { results } = await (await simEnclave({ clock: fixedClock() })).signResultBatch(items(6));
    const bodies = results.map((r) => r.body);
    const each = (bs: readonly ResultBody[]) => bs.map((b) => toHex(resultStructHashOf(b)));
    expect(resultStructHashesOf(bodies).map(toHex)).toEqual(each(bodies));
    expect(resultStructHashesOf([])).toEqual([]);
    const with_ = (i: number, patch: (b: ResultBody) => ResultBody): ResultBody[] =>
      bodies.map((b, j) => (j === i ? patch(structuredClone(b)) : b));
    const variants: ResultBody[][] = [
      with_(2, (b) => ({ ...b, iat: b.iat + 1 })), // a shared member differs from the first statement's
      with_(0, (b) => ({ ...b, exp: b.exp + 5 })), // the first statement differs from the rest
      with_(3, (b) => ({
        ...b,
        output: {
          ...b.output,
          reasonCodes: ['QUOTE"IN', 'BACK\\SLASH', 'CTRL\u0001', 'NON_ASCII_\u00e9', '\u{1F600}'],
        },
      })),
      with_(1, (b) => ({ ...b, output: { ...b.output, reasonCodes: [] } })),
      with_(0, (b) => ({ ...b, output: { ...b.output, reasonCodes: [`LONG_${'X'.repeat(5000)}`] } })), // past the template's buffer
      with_(4, (b) => ({ ...b, extra: 1 }) as ResultBody), // a member outside the schema
      with_(5, (b) => ({ ...b, output: { ...b.output, note: 'x' } }) as ResultBody),
      with_(1, (b) => ({
        ...b,
        platform: 'sim' as ResultBody['platform'],
        output: {
          threshold: b.output.threshold,
          score: b.output.score,
          reasonCodes: b.output.reasonCodes,
          decision: b.output.decision,
        },
      })), // members in another order
      bodies.map((b) => ({ ...b, executionProvider: 'cuda' as const })), // every statement, other shared values
      with_(2, (b) => ({ ...b, nonce: b.nonce.toUpperCase().replace('0X', '0x') })), // upper-case hex: the same bytes, another text
    ];
    // Each member every statement of a batch shares, differing in one statement (sharesMembers names them one by one).
    const other = (v: unknown): unknown =>
      typeof v === 'number'
        ? v + 1
        : /^0x[0-9a-f]{64}$/.test(String(v))
          ? `${String(v).slice(0, -1)}${String(v).endsWith('0') ? '1' : '0'}`
          : `${String(v)}x`;
    for (const k of [
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
    ] as const) {
      variants.push(with_(3, (b) => ({ ...b, [k]: other(b[k]) }) as ResultBody));
    }
    for (const v of variants) expect(resultStructHashesOf(v).map(toHex)).toEqual(each(v));
    // What the general path refuses, the batch path refuses the same way.
    for (const bad of [
      with_(2, (b) => ({ ...b, output: { ...b.output, score: 70_000 } })),
      with_(3, (b) => ({ ...b, output: { ...b.output, score: 1.5 } })),
      with_(4, (b) => ({ ...b, output: { ...b.output, score: -1 } })),
      with_(1, (b) => ({ ...b, nonce: `0x${'zz'.repeat(32)}` })),
      with_(2, (b) => ({ ...b, requestId: 'not hex but plain' })),
    ]) {
      const general = (() => {
        try {
          each(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(general).toBeInstanceOf(Error);
      expect(() => resultStructHashesOf(bad)).toThrow((general as Error).constructor as typeof Error);
    }
  });

  it('the wasm keccak-256 and the wasm and native SHA-256 give the same digests as @noble/hashes', async () => {
    await initHashes();
    // On a Node with node:crypto's one-shot hash (≥ 20.16), the native path is in use, so the lengths below reach it.
    const nodeCrypto = await import('node:crypto');
    expect(hasNativeSha256).toBe(
      typeof (process as { getBuiltinModule?: unknown }).getBuiltinModule === 'function' &&
        typeof nodeCrypto.hash === 'function',
    );
    // SHA-256 from 384 bytes on goes to node:crypto: lengths on both sides of that line, and across block edges.
    for (const n of [
      0, 1, 31, 32, 33, 55, 56, 64, 65, 135, 136, 137, 288, 383, 384, 385, 447, 448, 853, 4096, 70_000,
    ]) {
      const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(toHex(keccak_256(data))).toBe(toHex(nobleKeccak(data)));
      expect(toHex(sha256Digest(data))).toBe(toHex(nobleSha256(data)));
    }
  });

  it('sha256TaggedJson equals sha256Tagged over canonicalBytes, for ASCII, non-ASCII and texts past the scratch size', async () => {
    await initHashes();
    for (const v of [
      { a: 1 },
      { b: 'é€😀', a: [1, 2] },
      { big: 'x'.repeat(5000), u: '\u20ac'.repeat(3000) },
      { huge: 'é'.repeat(40_000) },
      SAMPLE_STATEMENT,
    ]) {
      expect(toHex(sha256TaggedJson(TAGS.result, v))).toBe(toHex(sha256Tagged(TAGS.result, canonicalBytes(v))));
      const frame = tagFrame(TAGS.result);
      const text = canonicalBytes(v);
      const framed = new Uint8Array(frame.length + text.length);
      framed.set(frame, 0);
      framed.set(text, frame.length);
      expect(toHex(sha256TaggedJson(TAGS.result, v))).toBe(toHex(nobleSha256(framed)));
    }
  });

  it('resultStructHashOf(body) equals the EIP-712 struct hash of resultMessage(body), members in any order', async () => {
    const canonicalize = canonicalizeModule as unknown as (v: unknown) => string;
    const { results } = await (await simEnclave({ clock: fixedClock() })).signResultBatch(items(8));
    for (const r of results) {
      // Reference: the result hash (tagged SHA-256) over the canonicalize package's bytes, the struct hash by the
      // message path (checked against viem's hashStruct in protocol/eip712.test.ts).
      const reference = toHex(sha256Tagged(TAGS.result, utf8(canonicalize(r.body))));
      const expected = resultStructHash({ ...resultMessage(r.body), resultHash: reference });
      expect(resultHash(r.body)).toBe(reference);
      expect(toHex(resultStructHashOf(r.body))).toBe(expected);
      // The same statement as a parser would hand it over (members in schema order, not sorted).
      const reversed = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).reverse()) as T;
      const reordered = { ...reversed(r.body), output: reversed(r.body.output) };
      expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(r.body));
      expect(toHex(resultStructHashOf(reordered))).toBe(expected);
      expect(resultHash(reordered)).toBe(resultHash(r.body));
      // The EIP-712 digest from the struct hash equals the message path's (checked against viem in eip712.test.ts).
      const domain = { name: 'Props', version: '1', chainId: 31337, verifyingContract: `0x${'11'.repeat(20)}` };
      expect(resultDigestOfStructHash(domain, resultStructHashOf(r.body))).toBe(resultDigest(domain, r.body));
    }
  });
});
