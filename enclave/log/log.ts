// The transparency log over the store: leaves are result struct hashes appended atomically with their results;
// tree heads are signed on demand by the enclave's JWS key and on-chain key and kept; proofs come from the leaves
// held in memory (reloaded from the store at start, so a crash loses nothing committed).
import {
  canonicalBytes,
  consistencyProof,
  fromHex,
  inclusionProof,
  leafHash,
  PropsError,
  toHex,
  treeRoot,
  type Hex,
} from '../../protocol/index.ts';
import { treeHeadDigest, type SignedTreeHead } from '../../verifier/index.ts';
import type { Enclave } from '../boot.ts';
import type { CompletedJob, Store } from '../store/types.ts';

export type TransparencyLog = {
  size(): number;
  /** Stores results and appends their leaves in one transaction; returns the assigned indices. */
  appendResults(done: CompletedJob[]): Promise<Array<{ jobId: string; logIndex: number }>>;
  signedHead(): Promise<SignedTreeHead>;
  leafHashAt(index: number): Hex;
  inclusion(index: number, treeSize: number): { index: number; treeSize: number; leafHash: Hex; proof: Hex[] };
  /** Root of the first `treeSize` leaves. */
  rootAt(treeSize: number): Hex;
  consistency(oldSize: number, newSize: number): { oldSize: number; newSize: number; proof: Hex[] };
};

export async function openTransparencyLog(deps: { store: Store; enclave: Enclave; clock: () => Date }): Promise<TransparencyLog> {
  const { store, enclave, clock } = deps;
  const leaves: Uint8Array[] = (await store.logLeaves()).map((h) => leafHash(fromHex(h, 32)));
  let head: SignedTreeHead | undefined;
  let signing: Promise<SignedTreeHead> | undefined;

  async function sign(): Promise<SignedTreeHead> {
    const treeSize = leaves.length;
    const stored = await store.treeHead(treeSize);
    if (stored) return { ...stored, rootHash: stored.rootHash } as SignedTreeHead;
    const rootHash = toHex(treeRoot(leaves, treeSize));
    const timestamp = Math.floor(clock().getTime() / 1000);
    const body = { v: 1, typ: 'props-sth', treeSize, rootHash, timestamp };
    const jws = await enclave.signJws(canonicalBytes(body), { typ: 'props-sth+jws' });
    const chainSignature = await enclave.keys.chainSigner.signDigest(fromHex(treeHeadDigest(treeSize, rootHash, timestamp), 32));
    const sth = { treeSize, rootHash, timestamp, jws, chainSignature };
    await store.putTreeHead(sth);
    return sth;
  }

  const checkRange = (ok: boolean) => {
    if (!ok) throw new PropsError('ERR_LOG_INDEX_OUT_OF_RANGE');
  };

  const log: TransparencyLog = {
    size: () => leaves.length,
    async appendResults(done) {
      const assigned = await store.completeJobs(done, Math.floor(clock().getTime() / 1000));
      const byJob = new Map(done.map((d) => [d.jobId, d]));
      for (const a of assigned) {
        // Indices are assigned in order inside the transaction, and this process is the only appender.
        leaves[a.logIndex] = leafHash(fromHex((byJob.get(a.jobId) as CompletedJob).structHash, 32));
      }
      return assigned;
    },
    async signedHead() {
      if (head && head.treeSize === leaves.length) return head;
      // One signature per tree size, however many callers ask at once.
      signing ??= sign().finally(() => {
        signing = undefined;
      });
      head = await signing;
      return head.treeSize === leaves.length ? head : log.signedHead();
    },
    leafHashAt(index) {
      checkRange(Number.isSafeInteger(index) && index >= 0 && index < leaves.length);
      return toHex(leaves[index] as Uint8Array);
    },
    rootAt(treeSize) {
      checkRange(Number.isSafeInteger(treeSize) && treeSize >= 0 && treeSize <= leaves.length);
      return toHex(treeRoot(leaves, treeSize));
    },
    inclusion(index, treeSize) {
      checkRange(Number.isSafeInteger(index) && Number.isSafeInteger(treeSize) && index >= 0 && index < treeSize && treeSize <= leaves.length);
      return { index, treeSize, leafHash: toHex(leaves[index] as Uint8Array), proof: inclusionProof(leaves, index, treeSize).map(toHex) };
    },
    consistency(oldSize, newSize) {
      checkRange(Number.isSafeInteger(oldSize) && Number.isSafeInteger(newSize) && oldSize >= 0 && oldSize <= newSize && newSize <= leaves.length);
      return { oldSize, newSize, proof: consistencyProof(leaves, oldSize, newSize).map(toHex) };
    },
  };
  return log;
}
