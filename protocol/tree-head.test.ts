// The tree-head format: its tags and its checkpoint digest pinned, so a move or a refactor cannot change the wire.
import { describe, expect, it } from 'vitest';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concatBytes, toHex, utf8 } from './bytes.ts';
import { TREE_HEAD_JWS_TYP, TREE_HEAD_TAG, TREE_HEAD_TYP, treeHeadBody, treeHeadDigest } from './tree-head.ts';

const uint64Word = (n: number): Uint8Array => {
  const w = new Uint8Array(32);
  new DataView(w.buffer).setBigUint64(24, BigInt(n));
  return w;
};

describe('tree head', () => {
  it('keeps its tags', () => {
    expect([TREE_HEAD_TAG, TREE_HEAD_TYP, TREE_HEAD_JWS_TYP]).toEqual(['props.sth.v1', 'props-sth', 'props-sth+jws']);
  });

  it('digests keccak256(abi.encode(keccak256(tag), size, root, timestamp))', () => {
    const root = new Uint8Array(32).fill(0xab);
    const expected = toHex(
      keccak_256(concatBytes(keccak_256(utf8(TREE_HEAD_TAG)), uint64Word(7), root, uint64Word(1_700_000_000))),
    );
    expect(treeHeadDigest(7, toHex(root), 1_700_000_000)).toBe(expected);
    expect(expected).toBe('0xb52cbfcee7bdde086082517671450985d6e6198e032910048037aaca658b6a83');
  });

  it('rejects a body of another typ', () => {
    const body = { v: 1, typ: TREE_HEAD_TYP, treeSize: 0, rootHash: `0x${'00'.repeat(32)}`, timestamp: 0 };
    expect(treeHeadBody.safeParse(body).success).toBe(true);
    expect(treeHeadBody.safeParse({ ...body, typ: 'props-result' }).success).toBe(false);
  });
});
