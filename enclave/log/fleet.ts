// Every log in the store, as any instance serves it: its own (signing heads on demand) and the other instances' logs
// (read from the store: their leaves and the heads their owners signed). An auditor may ask any instance for a proof
// in any log; a head is only ever signed by the log's owner.
import {
  fromHex,
  leafHash,
  MerkleTree,
  PropsError,
  toHex,
  type Hex,
  type SignedTreeHead,
} from '../../protocol/index.ts';
import type { Store } from '../store/types.ts';
import type { TransparencyLog } from './log.ts';
import { proofsOf, type LogProofs } from './proofs.ts';

export type LogView = LogProofs & {
  readonly id: Hex;
  /** The log's latest signed head (signed now for this instance's own log; for another's, the last it stored). */
  head(): Promise<SignedTreeHead | undefined>;
  /** Reads leaves appended since the last look (another instance's log grows while this one serves it). */
  refresh(): Promise<void>;
};

export type Logs = {
  readonly own: TransparencyLog;
  /** Ids of every log in the store. */
  ids(): Promise<string[]>;
  /** A log by id, refreshed; ERR_LOG_NOT_FOUND when the store holds nothing of it. */
  view(id: string): Promise<LogView>;
};

/** Other instances' logs kept in memory at once (each a tree of its leaves); a dropped one is read again. */
const MAX_VIEWS = 64;

export function fleetLogs(store: Store, own: TransparencyLog): Logs {
  const ownView: LogView = { ...own, head: () => own.signedHead(), refresh: async () => {} };
  const views = new Map<string, LogView>();

  function otherLog(id: Hex): LogView {
    const tree = new MerkleTree();
    let reading: Promise<void> | undefined;
    const refresh = async () => {
      reading ??= (async () => {
        for (const h of await store.logLeaves(id, tree.size)) tree.append(leafHash(fromHex(h, 32)));
      })().finally(() => {
        reading = undefined;
      });
      await reading;
    };
    return {
      id,
      ...proofsOf(tree),
      refresh,
      async head() {
        const row = await store.treeHead(id);
        if (!row) return undefined;
        if (row.treeSize > tree.size) await refresh();
        // A head whose root is not the stored leaves' root: the store was changed under the owner's signature.
        if (row.treeSize > tree.size || toHex(tree.root(row.treeSize)) !== row.rootHash)
          throw new PropsError('ERR_STATE_FORKED', { detail: `log ${id} at ${row.treeSize}` });
        return row as SignedTreeHead;
      },
    };
  }

  return {
    own,
    ids: () => store.logIds(),
    async view(id) {
      if (id === own.id) return ownView;
      let v = views.get(id);
      if (!v) {
        if (views.size >= MAX_VIEWS) views.clear();
        v = otherLog(id as Hex);
        views.set(id, v);
      }
      await v.refresh();
      if (v.size() === 0 && !(await store.treeHead(id))) {
        views.delete(id);
        throw new PropsError('ERR_LOG_NOT_FOUND');
      }
      return v;
    },
  };
}
