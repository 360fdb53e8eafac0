// This instance's transparency log over the store: leaves are result struct hashes appended atomically with their
// results; tree heads are signed on demand by the enclave's JWS key and on-chain key and kept; roots and proofs come
// from the tree held in memory (every complete subtree stored, so a head or a proof costs O(log n) lookups however
// long the log grows; rebuilt from the store's leaves at start, so a crash loses nothing committed). The log's id is
// the enclave's on-chain key id: in a fleet every instance appends to its own log in the shared store.
import {
  chainKeyId,
  fromHex,
  leafHash,
  MerkleTree,
  PropsError,
  toHex,
  type Hex,
  type SignedTreeHead,
} from '../../protocol/index.ts';
import type { Enclave } from '../boot.ts';
import type { CompletedJob, Store } from '../store/types.ts';
import { proofsOf, type LogProofs } from './proofs.ts';
import { signTreeHead } from './sign-head.ts';

export type TransparencyLog = LogProofs & {
  /** The log id: the enclave's on-chain key id. */
  readonly id: Hex;
  /** Stores results and appends their leaves in one transaction; returns the assigned indices. */
  appendResults(done: CompletedJob[]): Promise<Array<{ jobId: string; logIndex: number }>>;
  /** The head of the whole log, signed (and stored) once per size. */
  signedHead(): Promise<SignedTreeHead>;
};

/**
 * `eagerHeads`: sign a head after every append (coalesced), for a log other instances serve proofs of — they cannot
 * sign its heads, only hand out the latest one its owner stored.
 */
export async function openTransparencyLog(deps: {
  store: Store;
  enclave: Enclave;
  clock: () => Date;
  eagerHeads?: boolean;
  /** Told of every head this instance signs (after it is stored): the KMS witness hears of each. */
  onHead?: (head: SignedTreeHead) => void;
}): Promise<TransparencyLog> {
  const { store, enclave, clock } = deps;
  const id = chainKeyId(enclave.keys.chainSigner.publicKey);
  const tree = new MerkleTree();
  for (const h of await store.logLeaves(id)) tree.append(leafHash(fromHex(h, 32)));
  // The heads the enclave signed are an anchor of their own: leaves removed or changed under a head it signed (the
  // host editing results while keeping tree_heads) refuse the start, as an on-chain checkpoint does (enclave/service.ts);
  // otherwise the stale head would be served for a different tree and new heads signed over the fork.
  const latest = await store.treeHead(id);
  if (latest && latest.treeSize > tree.size)
    throw new PropsError('ERR_STATE_ROLLED_BACK', { detail: `log ${tree.size} < signed head ${latest.treeSize}` });
  if (latest && toHex(tree.root(latest.treeSize)) !== latest.rootHash)
    throw new PropsError('ERR_STATE_FORKED', { detail: `at signed head ${latest.treeSize}` });
  let head: SignedTreeHead | undefined;
  let signing: Promise<SignedTreeHead> | undefined;

  async function sign(): Promise<SignedTreeHead> {
    const treeSize = tree.size;
    const stored = await store.treeHead(id, treeSize);
    const rootHash = toHex(tree.root(treeSize));
    if (stored) {
      if (stored.rootHash !== rootHash)
        throw new PropsError('ERR_STATE_FORKED', { detail: `stored head at ${treeSize}` });
      return { ...stored, rootHash: stored.rootHash } as SignedTreeHead;
    }
    const sth = await signTreeHead(enclave, { treeSize, rootHash, timestamp: Math.floor(clock().getTime() / 1000) });
    await store.putTreeHead(id, sth);
    deps.onHead?.(sth);
    return sth;
  }

  const log: TransparencyLog = {
    id,
    ...proofsOf(tree),
    async appendResults(done) {
      const assigned = await store.completeJobs(id, done, Math.floor(clock().getTime() / 1000));
      const byJob = new Map(done.map((d) => [d.jobId, d]));
      for (const a of assigned) {
        // Indices are assigned in order inside the transaction, and this process is the log's only appender: anything
        // else means the store and this tree have parted, and no further head may be signed over either.
        if (a.logIndex !== tree.size)
          throw new PropsError('ERR_INTERNAL', {
            detail: `log out of step: store assigned ${a.logIndex}, tree holds ${tree.size}`,
          });
        tree.append(leafHash(fromHex((byJob.get(a.jobId) as CompletedJob).structHash, 32)));
      }
      // A failed head is signed again at the next append or request; the results are stored either way.
      if (deps.eagerHeads && assigned.length > 0) log.signedHead().catch(() => {});
      return assigned;
    },
    async signedHead() {
      if (head && head.treeSize === tree.size) return head;
      // One signature per tree size, however many callers ask at once.
      signing ??= sign().finally(() => {
        signing = undefined;
      });
      head = await signing;
      return head.treeSize === tree.size ? head : log.signedHead();
    },
  };
  return log;
}
