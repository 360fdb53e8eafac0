// Proofs over a log's tree held in memory, the same for this instance's own log and for another's read from the store.
import { type MerkleTree, PropsError, toHex, type Hex } from '../../protocol/index.ts';

export type LogProofs = {
  size(): number;
  leafHashAt(index: number): Hex;
  inclusion(index: number, treeSize: number): { index: number; treeSize: number; leafHash: Hex; proof: Hex[] };
  /** Root of the first `treeSize` leaves. */
  rootAt(treeSize: number): Hex;
  consistency(oldSize: number, newSize: number): { oldSize: number; newSize: number; proof: Hex[] };
};

const checkRange = (ok: boolean) => {
  if (!ok) throw new PropsError('ERR_LOG_INDEX_OUT_OF_RANGE');
};

export function proofsOf(tree: MerkleTree): LogProofs {
  return {
    size: () => tree.size,
    leafHashAt(index) {
      checkRange(Number.isSafeInteger(index) && index >= 0 && index < tree.size);
      return toHex(tree.leaf(index));
    },
    rootAt(treeSize) {
      checkRange(Number.isSafeInteger(treeSize) && treeSize >= 0 && treeSize <= tree.size);
      return toHex(tree.root(treeSize));
    },
    inclusion(index, treeSize) {
      checkRange(
        Number.isSafeInteger(index) &&
          Number.isSafeInteger(treeSize) &&
          index >= 0 &&
          index < treeSize &&
          treeSize <= tree.size,
      );
      return {
        index,
        treeSize,
        leafHash: toHex(tree.leaf(index)),
        proof: tree.inclusionProof(index, treeSize).map(toHex),
      };
    },
    consistency(oldSize, newSize) {
      checkRange(
        Number.isSafeInteger(oldSize) &&
          Number.isSafeInteger(newSize) &&
          oldSize >= 0 &&
          oldSize <= newSize &&
          newSize <= tree.size,
      );
      return { oldSize, newSize, proof: tree.consistencyProof(oldSize, newSize).map(toHex) };
    },
  };
}
