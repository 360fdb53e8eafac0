// The transparency log's tree as it grows: a signed head needs the root, a lender's audit bundle an inclusion proof,
// an auditor a consistency proof. Side by side at 10k, 100k and 1M leaves: the RFC 9162 functions over a leaf array
// (every node rehashed per call, as the log did before it kept a MerkleTree) against `MerkleTree`, which stores every
// complete subtree. `npx tsx bench/log.ts [--json]` (or `props bench --only log`).
import { sha256 } from '@noble/hashes/sha2.js';
import { consistencyProof, inclusionProof, initHashes, leafHash, MerkleTree, treeRoot } from '../protocol/index.ts';
import { bench, wantsJson, type BenchResult } from './harness.ts';

await initHashes(); // the wasm SHA-256 the enclave uses
const SIZES = [10_000, 100_000, 1_000_000];
type Row = BenchResult & { leaves: number; op: string; impl: 'leaf array' | 'MerkleTree' };
const rows: Row[] = [];

for (const n of SIZES) {
  const leaves = Array.from({ length: n }, (_, i) =>
    leafHash(sha256(Uint8Array.of(i & 0xff, (i >> 8) & 0xff, i >> 16))),
  );
  const tree = new MerkleTree();
  for (const leaf of leaves) tree.append(leaf);
  const index = Math.floor(n * 0.37);
  const old = Math.floor(n * 0.61);
  // The array functions rehash ~n nodes per call: few iterations at a million leaves keep the run short.
  const slow = { iterations: Math.max(3, Math.floor(2_000_000 / n)), warmup: 1 };
  const fast = { iterations: 2_000 };
  const ops: Array<[string, () => unknown, () => unknown]> = [
    ['root (signed head)', () => treeRoot(leaves), () => tree.root()],
    ['inclusion proof (audit bundle)', () => inclusionProof(leaves, index), () => tree.inclusionProof(index)],
    ['consistency proof', () => consistencyProof(leaves, old), () => tree.consistencyProof(old)],
  ];
  for (const [op, array, stored] of ops) {
    rows.push({ ...(await bench(`${op}, ${n} leaves, leaf array`, array, slow)), leaves: n, op, impl: 'leaf array' });
    rows.push({ ...(await bench(`${op}, ${n} leaves, MerkleTree`, stored, fast)), leaves: n, op, impl: 'MerkleTree' });
  }
  // Appending: one leaf plus, on average, one node hash (the array only pushes, but then every read pays).
  const grow = new MerkleTree();
  const extra = leaves.slice(0, 4096);
  let k = 0;
  rows.push({
    ...(await bench(`append, MerkleTree`, () => grow.append(extra[k++ % extra.length] as Uint8Array), {
      iterations: 4096,
      warmup: 0,
    })),
    leaves: n,
    op: 'append',
    impl: 'MerkleTree',
  });
}

const OPS = ['root (signed head)', 'inclusion proof (audit bundle)', 'consistency proof'];
const pair = (n: number, op: string) => ({
  array: rows.find((r) => r.leaves === n && r.op === op && r.impl === 'leaf array'),
  tree: rows.find((r) => r.leaves === n && r.op === op && r.impl === 'MerkleTree'),
});
if (wantsJson()) {
  const ratios = SIZES.flatMap((n) =>
    OPS.map((op) => {
      const { array, tree } = pair(n, op);
      return { leaves: n, op, arrayOverTree: array && tree ? array.p50Us / tree.p50Us : undefined };
    }),
  );
  process.stdout.write(`${JSON.stringify({ bench: 'log', rows, ratios })}\n`);
} else {
  process.stdout.write(
    '\nTransparency log: leaf-array functions (every node rehashed) vs MerkleTree (stored subtrees), p50\n',
  );
  process.stdout.write(
    `${'operation'.padEnd(32)}${'leaves'.padStart(11)}${'leaf array µs'.padStart(16)}${'MerkleTree µs'.padStart(16)}${'ratio'.padStart(12)}\n`,
  );
  for (const n of SIZES) {
    for (const op of OPS) {
      const { array, tree } = pair(n, op);
      if (!array || !tree) continue;
      process.stdout.write(
        `${op.padEnd(32)}${n.toLocaleString('en').padStart(11)}${array.p50Us.toFixed(0).padStart(16)}${tree.p50Us.toFixed(1).padStart(16)}${`${Math.round(array.p50Us / tree.p50Us).toLocaleString('en')}×`.padStart(12)}\n`,
      );
    }
    const append = rows.find((r) => r.leaves === n && r.op === 'append');
    if (append)
      process.stdout.write(
        `${'append (MerkleTree)'.padEnd(32)}${n.toLocaleString('en').padStart(11)}${'—'.padStart(16)}${append.p50Us.toFixed(1).padStart(16)}\n`,
      );
  }
}
