// RFC 9162 / RFC 6962 Merkle tree: the Certificate Transparency reference vectors, then every proof of every
// shape up to 40 leaves, then mangled proofs.
import { describe, expect, it } from 'vitest';
import {
  EMPTY_TREE_ROOT,
  MerkleTree,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  rootFromInclusionProof,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';
import { fromHex, toHex } from './bytes.ts';

// The 8 entries and roots used by every CT implementation's tests (certificate-transparency, trillian, tessera).
const ENTRIES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const LEAVES = ENTRIES.map((e) => leafHash(fromHex(e)));
const h = (s: string): Uint8Array => fromHex(s);
const hexes = (a: Uint8Array[]): string[] => a.map((x) => toHex(x).slice(2));

describe('RFC 6962 reference vectors', () => {
  it('roots for sizes 0..8', () => {
    expect(toHex(EMPTY_TREE_ROOT).slice(2)).toBe(ROOTS[0]);
    for (let n = 0; n <= 8; n++) expect(toHex(treeRoot(LEAVES, n)).slice(2), `size ${n}`).toBe(ROOTS[n]);
  });

  it('inclusion proofs (0 of 8, 5 of 8, 2 of 3)', () => {
    expect(hexes(inclusionProof(LEAVES, 0, 8))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hexes(inclusionProof(LEAVES, 5, 8))).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(hexes(inclusionProof(LEAVES, 2, 3))).toEqual([ROOTS[2]]);
    expect(verifyInclusion(LEAVES[5]!, 5, 8, inclusionProof(LEAVES, 5, 8), h(ROOTS[8]!))).toBe(true);
  });

  it('consistency proofs (1→8, 2→8, 6→8)', () => {
    expect(hexes(consistencyProof(LEAVES, 1, 8))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hexes(consistencyProof(LEAVES, 2, 8))).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hexes(consistencyProof(LEAVES, 6, 8))).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    for (const m of [1, 2, 6]) {
      expect(verifyConsistency(m, 8, h(ROOTS[m]!), h(ROOTS[8]!), consistencyProof(LEAVES, m, 8))).toBe(true);
    }
  });

  it('node hash prefixes 0x01', () => {
    expect(toHex(nodeHash(LEAVES[0]!, LEAVES[1]!)).slice(2)).toBe(ROOTS[2]);
  });
});

describe('every proof shape up to 40 leaves', () => {
  const N = 40;
  const leaves = Array.from({ length: N }, (_, i) => leafHash(Uint8Array.of(i, i * 7)));
  const roots = Array.from({ length: N + 1 }, (_, n) => treeRoot(leaves, n));

  it('inclusion proofs verify, and not for another index or root', () => {
    for (let n = 1; n <= N; n++) {
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(leaves, i, n);
        expect(verifyInclusion(leaves[i]!, i, n, proof, roots[n]!)).toBe(true);
        if (n > 1) expect(verifyInclusion(leaves[i]!, (i + 1) % n, n, proof, roots[n]!)).toBe(false);
        expect(verifyInclusion(leaves[i]!, i, n, proof, roots[n - 1]!)).toBe(false);
      }
    }
  });

  it('consistency proofs verify for every pair, and not against another root', () => {
    for (let n = 0; n <= N; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(leaves, m, n);
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, proof), `${m}→${n}`).toBe(true);
        if (m > 0 && m < n) {
          expect(verifyConsistency(m, n, roots[m - 1]!, roots[n]!, proof)).toBe(false);
          expect(verifyConsistency(m, n, roots[m]!, roots[n - 1]!, proof)).toBe(false);
        }
      }
    }
  });

  it('mangled proofs are rejected: flipped, truncated, extended', () => {
    for (let n = 2; n <= N; n++) {
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(leaves, i, n);
        const flipped = proof.map((p) => p.slice());
        flipped[0]![3]! ^= 0x80;
        expect(verifyInclusion(leaves[i]!, i, n, flipped, roots[n]!)).toBe(false);
        expect(verifyInclusion(leaves[i]!, i, n, proof.slice(0, -1), roots[n]!)).toBe(false);
        expect(verifyInclusion(leaves[i]!, i, n, [...proof, new Uint8Array(32)], roots[n]!)).toBe(false);
      }
      for (let m = 1; m < n; m++) {
        const proof = consistencyProof(leaves, m, n);
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, [...proof, new Uint8Array(32)])).toBe(false);
      }
    }
  });
});

describe('degenerate and malformed input', () => {
  it('verifiers answer false, never throw', () => {
    const proof = inclusionProof(LEAVES, 5, 8);
    expect(verifyInclusion(new Uint8Array(31), 5, 8, proof, h(ROOTS[8]!))).toBe(false);
    expect(verifyInclusion(LEAVES[5]!, 8, 8, proof, h(ROOTS[8]!))).toBe(false);
    expect(verifyInclusion(LEAVES[5]!, -1, 8, proof, h(ROOTS[8]!))).toBe(false);
    expect(rootFromInclusionProof(LEAVES[5]!, 5, 8, [new Uint8Array(31)])).toBeUndefined();
    expect(verifyConsistency(8, 6, h(ROOTS[8]!), h(ROOTS[6]!), [])).toBe(false);
    expect(verifyConsistency(6, 8, h(ROOTS[6]!), h(ROOTS[8]!), [])).toBe(false);
    expect(verifyConsistency(4, 4, h(ROOTS[4]!), h(ROOTS[4]!), [])).toBe(true);
    expect(verifyConsistency(4, 4, h(ROOTS[4]!), h(ROOTS[5]!), [])).toBe(false);
    expect(verifyConsistency(0, 8, EMPTY_TREE_ROOT, h(ROOTS[8]!), [])).toBe(true);
  });

  it('generators refuse impossible requests', () => {
    expect(() => inclusionProof(LEAVES, 8, 8)).toThrow(RangeError);
    expect(() => inclusionProof(LEAVES, 0, 9)).toThrow(RangeError);
    expect(() => consistencyProof(LEAVES, 5, 3)).toThrow(RangeError);
    expect(() => treeRoot([new Uint8Array(31)])).toThrow(RangeError);
    expect(() => nodeHash(new Uint8Array(31), LEAVES[0]!)).toThrow(RangeError);
  });
});

describe('treeWithProofs (one pass)', () => {
  it('gives the RFC 9162 root and the same inclusion proofs as inclusionProof, for sizes 1..70', async () => {
    const { treeWithProofs, treeRoot, inclusionProof, verifyInclusion } = await import('./merkle.ts');
    const { sha256 } = await import('@noble/hashes/sha2.js');
    for (let n = 1; n <= 70; n++) {
      const leaves = Array.from({ length: n }, (_, i) => sha256(Uint8Array.of(i, n)));
      const { root, proofs } = treeWithProofs(leaves);
      expect(Buffer.from(root).toString('hex')).toBe(Buffer.from(treeRoot(leaves)).toString('hex'));
      for (let i = 0; i < n; i++) {
        expect(proofs[i]!.map((p) => Buffer.from(p).toString('hex'))).toEqual(
          inclusionProof(leaves, i).map((p) => Buffer.from(p).toString('hex')),
        );
        expect(verifyInclusion(leaves[i]!, i, n, proofs[i]!, root)).toBe(true);
      }
    }
  });
});

describe('MerkleTree (stored subtrees)', () => {
  it('matches the RFC 6962 reference roots as it grows, and its proofs are the reference proofs', () => {
    const tree = new MerkleTree();
    expect(toHex(tree.root()).slice(2)).toBe(ROOTS[0]);
    LEAVES.forEach((leaf, i) => {
      expect(tree.append(leaf)).toBe(i);
      expect(toHex(tree.root()).slice(2), `size ${i + 1}`).toBe(ROOTS[i + 1]);
    });
    for (let n = 0; n <= 8; n++) expect(toHex(tree.root(n)).slice(2), `prefix ${n}`).toBe(ROOTS[n]);
    expect(hexes(tree.inclusionProof(5, 8))).toEqual(hexes(inclusionProof(LEAVES, 5, 8)));
    expect(hexes(tree.consistencyProof(6, 8))).toEqual(hexes(consistencyProof(LEAVES, 6, 8)));
  });

  it('every root, leaf, inclusion and consistency proof of every prefix equals the leaf-array functions, up to 70 leaves', () => {
    const N = 70;
    const leaves = Array.from({ length: N }, (_, i) => leafHash(Uint8Array.of(i, 3)));
    const tree = new MerkleTree();
    for (const leaf of leaves) tree.append(leaf);
    expect(tree.size).toBe(N);
    for (let n = 0; n <= N; n++) {
      expect(toHex(tree.root(n)), `root ${n}`).toBe(toHex(treeRoot(leaves, n)));
      for (let i = 0; i < n; i++)
        expect(hexes(tree.inclusionProof(i, n)), `${i} of ${n}`).toEqual(hexes(inclusionProof(leaves, i, n)));
      for (let m = 0; m <= n; m++)
        expect(hexes(tree.consistencyProof(m, n)), `${m}→${n}`).toEqual(hexes(consistencyProof(leaves, m, n)));
    }
    for (let i = 0; i < N; i++) expect(toHex(tree.leaf(i))).toBe(toHex(leaves[i]!));
  });

  it('keeps its proofs right across the growth of its buffers (3,000 leaves, sampled)', () => {
    const leaves = Array.from({ length: 3000 }, (_, i) => leafHash(Uint8Array.of(i & 0xff, i >> 8)));
    const tree = new MerkleTree();
    for (const leaf of leaves) tree.append(leaf);
    for (const n of [1, 1023, 1024, 1025, 2047, 2048, 2999, 3000]) {
      expect(toHex(tree.root(n))).toBe(toHex(treeRoot(leaves, n)));
      for (const i of [0, n >> 1, n - 1]) {
        const proof = tree.inclusionProof(i, n);
        expect(verifyInclusion(leaves[i]!, i, n, proof, tree.root(n))).toBe(true);
      }
      for (const m of [1, n >> 1, n - 1])
        expect(verifyConsistency(m, n, tree.root(m), tree.root(n), tree.consistencyProof(m, n))).toBe(true);
    }
  });

  it('hands out copies: mutating a returned hash changes nothing stored', () => {
    const tree = new MerkleTree();
    for (const leaf of LEAVES) tree.append(leaf);
    tree.root().fill(0);
    tree.leaf(3).fill(0);
    tree.inclusionProof(0, 8)[0]!.fill(0);
    expect(toHex(tree.root()).slice(2)).toBe(ROOTS[8]);
    expect(toHex(tree.leaf(3))).toBe(toHex(LEAVES[3]!));
    expect(hexes(tree.inclusionProof(0, 8))).toEqual(hexes(inclusionProof(LEAVES, 0, 8)));
  });

  it('refuses what the leaf-array functions refuse', () => {
    const tree = new MerkleTree();
    for (const leaf of LEAVES) tree.append(leaf);
    expect(() => tree.append(new Uint8Array(31))).toThrow(RangeError);
    expect(() => tree.append('00' as unknown as Uint8Array)).toThrow(TypeError);
    expect(tree.size).toBe(8);
    expect(() => tree.root(9)).toThrow(RangeError);
    expect(() => tree.root(-1)).toThrow(RangeError);
    expect(() => tree.root(1.5)).toThrow(RangeError);
    expect(() => tree.leaf(8)).toThrow(RangeError);
    expect(() => tree.inclusionProof(8, 8)).toThrow(RangeError);
    expect(() => tree.inclusionProof(0, 9)).toThrow(RangeError);
    expect(() => tree.consistencyProof(5, 3)).toThrow(RangeError);
    expect(() => tree.consistencyProof(3, 9)).toThrow(RangeError);
    expect(tree.consistencyProof(0, 8)).toEqual([]);
    expect(tree.consistencyProof(8, 8)).toEqual([]);
  });
});
