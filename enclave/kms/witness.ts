// The heads a KMS witnessed: per log, the highest signed head an instance reported. A larger head replaces it only
// with a consistency proof from it (so the witnessed heads of a log are one growing tree); a different root at the
// same size is a fork and is refused. Held in memory: each replica keeps its own, and an instance reports to all.
import { fromHex, PropsError, verifyConsistency, type Hex, type WitnessedHead } from '../../protocol/index.ts';

/** Logs a KMS witnesses at most; a report for a new log past this many is refused. */
const MAX_LOGS = 100_000;

export type Witness = {
  get(logId: Hex): WitnessedHead | undefined;
  /** Every head witnessed (what a replica joining from this one starts from). */
  all(): WitnessedHead[];
  /** Heads from the attested peer a replica joined from, each kept where it is higher than the one held. */
  adopt(heads: readonly WitnessedHead[]): void;
  /** Records a verified head of `logId`; answers the head witnessed now (the stored one, if the report was older). */
  record(logId: Hex, head: { treeSize: number; rootHash: Hex }, consistency: readonly Hex[]): WitnessedHead;
};

export function createWitness(): Witness {
  const heads = new Map<Hex, WitnessedHead>();
  return {
    get: (logId) => heads.get(logId),
    all: () => [...heads.values()],
    adopt(from) {
      for (const h of from) {
        const known = heads.get(h.logId as Hex);
        if (!known || known.treeSize < h.treeSize) heads.set(h.logId as Hex, h);
      }
    },
    record(logId, head, consistency) {
      const known = heads.get(logId);
      if (known && head.treeSize < known.treeSize) return known;
      if (known && head.treeSize === known.treeSize) {
        if (head.rootHash !== known.rootHash)
          throw new PropsError('ERR_STATE_FORKED', { detail: `at ${head.treeSize}` });
        return known;
      }
      if (
        known &&
        !verifyConsistency(
          known.treeSize,
          head.treeSize,
          fromHex(known.rootHash, 32),
          fromHex(head.rootHash, 32),
          consistency.map((h) => fromHex(h, 32)),
        )
      )
        throw new PropsError('ERR_LOG_CONSISTENCY_INVALID', { detail: `from ${known.treeSize}` });
      if (!known && heads.size >= MAX_LOGS) throw new PropsError('ERR_RATE_LIMITED', { detail: 'logs witnessed' });
      const next = { logId, treeSize: head.treeSize, rootHash: head.rootHash };
      heads.set(logId, next);
      return next;
    },
  };
}
