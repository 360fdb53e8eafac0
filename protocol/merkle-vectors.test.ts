// RFC 6962 proof vectors published by transparency-dev/merkle, copied as they are:
//   proof/verify_test.go @ 02194e9afb6c1d95b5381350007963aa70fff472 (inclusionProofs, consistencyProofs, roots,
//   leaves, TestVerifyConsistency's table) and testonly/constants.go @ 582a6ad190b6848f1d26f8bf08ddef29955d9db1
//   (LeafInputs, RootHashes), https://github.com/transparency-dev/merkle, Apache-2.0.
// Their probes are indexed from 1 (leaf, size); ours from 0.
import { describe, expect, it } from 'vitest';
import { fromHex } from './bytes.ts';
import {
  EMPTY_TREE_ROOT,
  consistencyProof,
  inclusionProof,
  leafHash,
  rootFromInclusionProof,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';

const h = (s: string): Uint8Array => fromHex(s, 32);

const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
// RootHashes(): indexed by tree size, from the empty tree.
const ROOT_HASHES = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(h);
const SOME_HASH = h('abacaba000000000000000000000000000000000000000000060061e00123456');

// inclusionProofs: {leaf (1-based), size, proof}; {0, 0, nil} is their "invalid path" entry and is left out.
const INCLUSION: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [3, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    2,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];

// consistencyProofs: {size1, size2, proof}.
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

const LEAVES = LEAF_INPUTS.map((x) => leafHash(fromHex(x)));
const root = (n: number) => ROOT_HASHES[n] as Uint8Array;

describe('transparency-dev/merkle vectors', () => {
  it('RootHashes for sizes 0..8', () => {
    expect(EMPTY_TREE_ROOT).toEqual(root(0));
    for (let n = 0; n <= 8; n++) expect(treeRoot(LEAVES, n), `size ${n}`).toEqual(root(n));
  });

  it.each(INCLUSION)(
    'inclusion proof of leaf %i (1-based) in %i leaves verifies, and its corruptions do not',
    (leaf, size, hexProof) => {
      const index = leaf - 1;
      const proof = hexProof.map(h);
      const l = LEAVES[index] as Uint8Array;
      expect(inclusionProof(LEAVES, index, size)).toEqual(proof);
      expect(rootFromInclusionProof(l, index, size, proof)).toEqual(root(size));
      expect(verifyInclusion(l, index, size, proof, root(size))).toBe(true);
      // corruptInclusionProof's probes.
      const wrong: [number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
        [index - 1, size, l, proof, root(size)],
        [index + 1, size, l, proof, root(size)],
        [index ^ 2, size, l, proof, root(size)],
        [index, size * 2, l, proof, root(size)],
        [index, Math.floor(size / 2), l, proof, root(size)],
        [index, size, SOME_HASH, proof, root(size)],
        [index, size, l, proof, EMPTY_TREE_ROOT],
        [index, size, l, proof, SOME_HASH],
        [index, size, l, [...proof, root(size)], root(size)],
        [index, size, l, [root(size), ...proof], root(size)],
      ];
      proof.forEach((_, i) => {
        const p = proof.map((x) => x.slice());
        (p[i] as Uint8Array)[0] = ((p[i] as Uint8Array)[0] as number) ^ 8;
        wrong.push([index, size, l, p, root(size)]);
      });
      if (proof.length > 0) wrong.push([index, size, l, proof.slice(0, -1), root(size)]);
      if (proof.length > 1)
        wrong.push([index, size, l, [proof[0] as Uint8Array, SOME_HASH, ...proof.slice(1)], root(size)]);
      for (const [i, n, lf, p, r] of wrong) expect(verifyInclusion(lf, i, n, p, r), `${i}/${n}`).toBe(false);
    },
  );

  it.each(CONSISTENCY)('consistency proof %i → %i verifies, and its corruptions do not', (size1, size2, hexProof) => {
    const proof = hexProof.map(h);
    const [r1, r2] = [root(size1), root(size2)];
    expect(consistencyProof(LEAVES, size1, size2)).toEqual(proof);
    expect(verifyConsistency(size1, size2, r1, r2, proof)).toBe(true);
    if (proof.length === 0) return; // as upstream: only non-trivial proofs are corrupted
    // corruptConsistencyProof's probes.
    const wrong: [number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
      [size1 - 1, size2, r1, r2, proof],
      [size1 + 1, size2, r1, r2, proof],
      [size1 ^ 2, size2, r1, r2, proof],
      [size1, size2 * 2, r1, r2, proof],
      [size1, Math.floor(size2 / 2), r1, r2, proof],
      [size1, size2, SOME_HASH, r2, proof],
      [size1, size2, r1, SOME_HASH, proof],
      [size1, size2, r2, r1, proof],
      [size1, size2, r1, r2, []],
      [size1, size2, r1, r2, [...proof, r1]],
      [size1, size2, r1, r2, [...proof, r2]],
      [size1, size2, r1, r2, [r1, ...proof]],
      [size1, size2, r1, r2, [r2, ...proof]],
      [size1, size2, r1, r2, [proof[0] as Uint8Array, ...proof]],
      [size1, size2, r1, r2, proof.slice(0, -1)],
    ];
    proof.forEach((_, i) => {
      const p = proof.map((x) => x.slice());
      (p[i] as Uint8Array)[0] = ((p[i] as Uint8Array)[0] as number) ^ 16;
      wrong.push([size1, size2, r1, r2, p]);
    });
    for (const [m, n, a, b, p] of wrong) expect(verifyConsistency(m, n, a, b, p), `${m}→${n}`).toBe(false);
  });

  // TestVerifyConsistency's table with 32-byte roots: upstream's "don't care" roots stand for any root but ours are
  // hashes, and an empty old tree must have the empty-tree root here, which upstream leaves unchecked.
  it('RFC 6962 edge: degenerate sizes (TestVerifyConsistency), two size-0 trees included', () => {
    const E = EMPTY_TREE_ROOT;
    const A = root(1);
    const B = root(2);
    const cases: [number, number, Uint8Array, Uint8Array, Uint8Array[], boolean][] = [
      [0, 0, E, B, [], false], // two empty trees, any "new root": the finding
      [0, 0, A, B, [], false],
      [1, 1, A, B, [], false],
      [0, 0, E, E, [], true],
      [0, 0, A, A, [], false], // equal, but not the empty tree's root
      [0, 1, E, B, [], true],
      [1, 1, B, B, [], true],
      [1, 0, A, B, [], false],
      [2, 1, A, B, [], false],
      [1, 2, A, B, [], false],
      [1, 1, E, B, [], false],
      [0, 0, E, E, [E], false],
      [0, 1, E, E, [E], false],
      [1, 1, E, E, [E], false],
    ];
    for (const [m, n, a, b, p, ok] of cases) expect(verifyConsistency(m, n, a, b, p), `${m}→${n}`).toBe(ok);
  });
});
