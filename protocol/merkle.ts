// The transparency log's Merkle tree: RFC 9162 (CT v2, same tree as RFC 6962) over SHA-256. The enclave appends
// results, posts signed heads on chain, and anyone proves inclusion or consistency; contracts/src/MerkleLog.sol
// verifies the same inclusion proofs on chain.
import { sha256Digest as sha256 } from './hash.ts';
import { bytesEqual } from './bytes.ts';

const HASH_LEN = 32;

/** Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1). */
export const EMPTY_TREE_ROOT: Uint8Array = sha256(new Uint8Array(0));

function assertHash(h: unknown, label: string): asserts h is Uint8Array {
  if (!(h instanceof Uint8Array)) throw new TypeError(`${label}: expected Uint8Array`);
  if (h.length !== HASH_LEN) throw new RangeError(`${label}: expected ${HASH_LEN} bytes, got ${h.length}`);
}

function assertSize(n: unknown, label: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new RangeError(`${label}: expected a size`);
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_LEN;
}

// Hashing inputs are framed in these scratch buffers (used synchronously, never handed out): the log and every
// batch hash a leaf and a node per result, and a fresh small buffer for each costs about as much as its hashing.
const leafScratch = new Uint8Array(1 + HASH_LEN);
const nodeScratch = new Uint8Array(1 + 2 * HASH_LEN);
nodeScratch[0] = 0x01;

/** RFC 9162 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError('leafHash: expected Uint8Array');
  const buf = data.length === HASH_LEN ? leafScratch : new Uint8Array(1 + data.length);
  buf[0] = 0x00;
  buf.set(data, 1);
  return sha256(buf);
}

/** RFC 9162 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  assertHash(left, 'nodeHash left');
  assertHash(right, 'nodeHash right');
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_LEN);
  return sha256(nodeScratch);
}

// Largest power of two strictly smaller than n (n ≥ 2): the split point of RFC 9162 §2.1.1.
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function mth(leaves: readonly Uint8Array[], from: number, to: number): Uint8Array {
  const n = to - from;
  if (n === 0) return EMPTY_TREE_ROOT;
  if (n === 1) return leaves[from] as Uint8Array;
  const k = split(n);
  return nodeHash(mth(leaves, from, from + k), mth(leaves, from + k, to));
}

// MTH(D[from:to]) of some tree: the proofs below are written once against it, for a leaf array (every node
// recomputed) and for a MerkleTree (complete subtrees looked up).
type Subtree = (from: number, to: number) => Uint8Array;

// PATH(m, D[from:to]) of RFC 9162 §2.1.3.1.
function pathIn(sub: Subtree, m: number, from: number, to: number): Uint8Array[] {
  const n = to - from;
  if (n === 1) return [];
  const k = split(n);
  return m < k
    ? [...pathIn(sub, m, from, from + k), sub(from + k, to)]
    : [...pathIn(sub, m - k, from + k, to), sub(from, from + k)];
}

// SUBPROOF(m, D[from:to], complete) of RFC 9162 §2.1.4.1.
function subproofIn(sub: Subtree, m: number, from: number, to: number, complete: boolean): Uint8Array[] {
  const n = to - from;
  if (m === n) return complete ? [] : [sub(from, to)];
  const k = split(n);
  return m <= k
    ? [...subproofIn(sub, m, from, from + k, complete), sub(from + k, to)]
    : [...subproofIn(sub, m - k, from + k, to, false), sub(from, from + k)];
}

function checkLeaves(leafHashes: readonly Uint8Array[], size: number): void {
  if (!Array.isArray(leafHashes)) throw new TypeError('leafHashes: expected an array');
  assertSize(size, 'tree size');
  if (size > leafHashes.length) throw new RangeError('tree size exceeds the number of leaves');
  for (let i = 0; i < size; i++) assertHash(leafHashes[i], `leaf ${i}`);
}

/** Merkle Tree Hash of the first `size` leaf hashes (all of them by default). */
export function treeRoot(leafHashes: readonly Uint8Array[], size: number = leafHashes.length): Uint8Array {
  checkLeaves(leafHashes, size);
  return mth(leafHashes, 0, size);
}

/** Inclusion proof PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf-to-root order. */
export function inclusionProof(
  leafHashes: readonly Uint8Array[],
  index: number,
  size: number = leafHashes.length,
): Uint8Array[] {
  checkLeaves(leafHashes, size);
  assertSize(index, 'leaf index');
  if (index >= size) throw new RangeError('leaf index outside the tree');
  return pathIn((from, to) => mth(leafHashes, from, to), index, 0, size);
}

/** Root implied by an inclusion proof (RFC 9162 §2.1.3.2), or undefined when the proof cannot fit this tree. */
export function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array | undefined {
  if (!isHash(leaf) || !Array.isArray(proof) || !proof.every(isHash)) return undefined;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return undefined;
  // Bit arithmetic on bigint: sizes are uint64 on chain and JS bit operators stop at 32 bits.
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return undefined;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : undefined;
}

/** Whether `proof` shows leaf hash `leaf` at `index` in the tree of `size` leaves with root `root`. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const got = rootFromInclusionProof(leaf, index, size, proof);
  return got !== undefined && isHash(root) && bytesEqual(got, root);
}

/** Consistency proof PROOF(oldSize, D[newSize]) (RFC 9162 §2.1.4.1): the old tree is a prefix of the new one. */
export function consistencyProof(
  leafHashes: readonly Uint8Array[],
  oldSize: number,
  newSize: number = leafHashes.length,
): Uint8Array[] {
  checkLeaves(leafHashes, newSize);
  assertSize(oldSize, 'old size');
  if (oldSize > newSize) throw new RangeError('old size exceeds new size');
  if (oldSize === 0 || oldSize === newSize) return [];
  return subproofIn((from, to) => mth(leafHashes, from, to), oldSize, 0, newSize, true);
}

/** Whether `proof` shows that the tree (oldSize, oldRoot) is a prefix of (newSize, newRoot) (RFC 9162 §2.1.4.2). */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isHash(oldRoot) || !isHash(newRoot) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) {
    return false;
  }
  // The degenerate cases the RFC algorithm leaves out: the same tree (two empty trees included, whose roots must both
  // be the empty-tree hash), or an empty old tree, which every tree extends.
  if (oldSize === newSize)
    return proof.length === 0 && bytesEqual(oldRoot, newRoot) && (oldSize > 0 || bytesEqual(oldRoot, EMPTY_TREE_ROOT));
  if (oldSize === 0) return proof.length === 0 && bytesEqual(oldRoot, EMPTY_TREE_ROOT);
  if (proof.length === 0) return false;

  const path = [...proof];
  let fn = BigInt(oldSize - 1);
  let sn = BigInt(newSize - 1);
  // An old tree whose size is a power of two is a complete subtree: its root starts the path.
  if ((fn & (fn + 1n)) === 0n) path.unshift(oldRoot);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot);
}

/**
 * Root and every leaf's inclusion proof of one tree, in one bottom-up pass (n − 1 node hashes in all, where
 * `inclusionProof` per leaf recomputes subtrees). Building level by level and carrying an odd last node up
 * unhashed gives the RFC 9162 tree for any size; merkle.test.ts checks it against `treeRoot`/`inclusionProof`.
 */
export function treeWithProofs(leafHashes: readonly Uint8Array[]): { root: Uint8Array; proofs: Uint8Array[][] } {
  checkLeaves(leafHashes, leafHashes.length);
  const n = leafHashes.length;
  if (n === 0) return { root: EMPTY_TREE_ROOT, proofs: [] };
  const proofs: Uint8Array[][] = Array.from({ length: n }, () => []);
  // pos[i]: leaf i's node index at the current level.
  const pos = Array.from({ length: n }, (_, i) => i);
  let level: readonly Uint8Array[] = leafHashes;
  while (level.length > 1) {
    for (let i = 0; i < n; i++) {
      const p = pos[i] as number;
      const sibling = p ^ 1;
      if (sibling < level.length) (proofs[i] as Uint8Array[]).push(level[sibling] as Uint8Array);
      pos[i] = p >> 1;
    }
    const next: Uint8Array[] = [];
    for (let j = 0; j + 1 < level.length; j += 2)
      next.push(nodeHash(level[j] as Uint8Array, level[j + 1] as Uint8Array));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    level = next;
  }
  return { root: level[0] as Uint8Array, proofs };
}

/**
 * An append-only RFC 9162 tree that keeps the hash of every complete subtree — 2n − 1 hashes for n leaves, 32 bytes
 * each, one flat buffer per level — so the root of any prefix, an inclusion proof or a consistency proof looks up
 * O(log n) stored nodes and hashes at most O(log² n) new ones, where the leaf-array functions above rehash the
 * whole tree (a second per call at a million leaves). The transparency log keeps one of these.
 *
 * Every range the RFC's recursion visits starts at a multiple of its largest power-of-two part, so its complete
 * subtrees are exactly the stored ones. Hashes handed out are copies.
 */
export class MerkleTree {
  // levels[h] holds, back to back, MTH(D[j·2^h : (j+1)·2^h]) for j = 0 … counts[h] − 1.
  readonly #levels: Uint8Array[] = [new Uint8Array(HASH_LEN * 1024)];
  readonly #counts: number[] = [0];

  /** Number of leaves. */
  get size(): number {
    return this.#counts[0] as number;
  }

  /** Appends a leaf hash (already `leafHash`ed); returns its index. */
  append(leaf: Uint8Array): number {
    assertHash(leaf, 'MerkleTree.append');
    const index = this.size;
    this.#put(0, leaf);
    // Each completed pair of nodes at level h makes one node at level h + 1.
    for (let h = 0; (this.#counts[h] as number) % 2 === 0; h++) {
      const c = this.#counts[h] as number;
      this.#put(h + 1, nodeHash(this.#node(h, c - 2), this.#node(h, c - 1)));
    }
    return index;
  }

  /** The leaf hash at `index`. */
  leaf(index: number): Uint8Array {
    this.#checkIndex(index, this.size);
    return this.#node(0, index).slice();
  }

  /** Root of the first `size` leaves (RFC 9162 MTH). */
  root(size: number = this.size): Uint8Array {
    this.#checkSize(size);
    return this.#subtree(0, size).slice();
  }

  /** Inclusion proof of leaf `index` in the tree of the first `size` leaves, leaf-to-root order. */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.#checkSize(size);
    this.#checkIndex(index, size);
    return pathIn(this.#sub, index, 0, size).map((x) => x.slice());
  }

  /** Consistency proof from the tree of `oldSize` leaves to that of `newSize` leaves. */
  consistencyProof(oldSize: number, newSize: number = this.size): Uint8Array[] {
    this.#checkSize(newSize);
    assertSize(oldSize, 'old size');
    if (oldSize > newSize) throw new RangeError('old size exceeds new size');
    if (oldSize === 0 || oldSize === newSize) return [];
    return subproofIn(this.#sub, oldSize, 0, newSize, true).map((x) => x.slice());
  }

  readonly #sub: Subtree = (from, to) => this.#subtree(from, to);

  #subtree(from: number, to: number): Uint8Array {
    const n = to - from;
    if (n === 0) return EMPTY_TREE_ROOT;
    const h = Math.log2(n);
    // A complete, aligned subtree is stored once the leaves under it are all in (callers keep `to` ≤ size).
    if (Number.isInteger(h) && from % n === 0 && from / n < (this.#counts[h] ?? 0)) return this.#node(h, from / n);
    const k = split(n);
    return nodeHash(this.#subtree(from, from + k), this.#subtree(from + k, to));
  }

  #node(h: number, j: number): Uint8Array {
    return (this.#levels[h] as Uint8Array).subarray(j * HASH_LEN, (j + 1) * HASH_LEN);
  }

  #put(h: number, hash: Uint8Array): void {
    if (this.#levels.length === h) {
      this.#levels.push(new Uint8Array(HASH_LEN * 64));
      this.#counts.push(0);
    }
    const c = this.#counts[h] as number;
    let buf = this.#levels[h] as Uint8Array;
    if ((c + 1) * HASH_LEN > buf.length) {
      // Grown by doubling: earlier subarrays keep the old buffer, whose slots never change.
      const grown = new Uint8Array(buf.length * 2);
      grown.set(buf);
      this.#levels[h] = buf = grown;
    }
    buf.set(hash, c * HASH_LEN);
    this.#counts[h] = c + 1;
  }

  #checkSize(size: number): void {
    assertSize(size, 'tree size');
    if (size > this.size) throw new RangeError('tree size exceeds the number of leaves');
  }

  #checkIndex(index: number, size: number): void {
    assertSize(index, 'leaf index');
    if (index >= size) throw new RangeError('leaf index outside the tree');
  }
}
