// The embedded store's transparency-log side: completing jobs into log entries (results, batch heads), reading the
// entries back, and the signed tree heads.
import type Database from 'better-sqlite3';
import { and, asc, desc, eq, gte } from 'drizzle-orm';
import type { SqliteDb } from './sqlite-connection.ts';
import type { SqliteQueries } from './sqlite-statements.ts';
import * as t from './schema.ts';
import type { CompletedJob, Store, TreeHeadRow } from './types.ts';

type LogMethods = 'completeJobs' | 'getResult' | 'logLeaves' | 'logIds' | 'putTreeHead' | 'treeHead';

/**
 * Rows written before results had a log column belong to the log of the one instance that held the database: the
 * first log id the store is asked about adopts them (a fleet never shares an embedded database).
 */
function legacyLogAdopter(sqlite: Database.Database): (logId: string) => void {
  let legacyAdopted = false;
  return (logId) => {
    if (legacyAdopted) return;
    legacyAdopted = true;
    sqlite.transaction(() => {
      sqlite.prepare("UPDATE results SET log_id = ? WHERE log_id = ''").run(logId);
      sqlite.prepare("UPDATE tree_heads SET log_id = ? WHERE log_id = ''").run(logId);
      sqlite.prepare("UPDATE jobs SET log_id = ? WHERE log_id = ''").run(logId);
    })();
  };
}

/** In one transaction: each job still accepted becomes done, with its result at the log's next index. */
function completeInLog(db: SqliteDb, q: SqliteQueries, logId: string, done: CompletedJob[], now: number) {
  return db.transaction(() => {
    const out: Array<{ jobId: string; logIndex: number }> = [];
    const last = q.lastLeaf.get({ logId });
    let next = last ? last.idx + 1 : 0;
    // Each batch head once, stored when the first of its results is.
    const headIds = new Map<string, number>();
    const headId = (head: string): number => {
      let id = headIds.get(head);
      if (id === undefined) headIds.set(head, (id = (q.headInsert.get({ head }) as { id: number }).id));
      return id;
    };
    for (const d of done) {
      // Only a job still accepted moves to done (one that is done or failed, or repeated in `done`, changes
      // nothing) and only that one gets its result, the log entry at the index it now names.
      if (q.jobDone.run({ id: d.jobId, now, logId, logIndex: next }).changes !== 1) continue;
      const logIndex = next++;
      q.resultInsert.run({
        logId,
        logIndex,
        jobId: d.jobId,
        structHash: d.structHash,
        attestation: d.attestation,
        headId: d.head === undefined ? null : headId(d.head),
      });
      out.push({ jobId: d.jobId, logIndex });
    }
    return out;
  });
}

export function sqliteLog(sqlite: Database.Database, db: SqliteDb, q: SqliteQueries): Pick<Store, LogMethods> {
  const adoptLegacyLog = legacyLogAdopter(sqlite);
  return {
    async completeJobs(logId, done: CompletedJob[], now) {
      if (done.length === 0) return [];
      adoptLegacyLog(logId);
      return completeInLog(db, q, logId, done, now);
    },
    async getResult(jobId) {
      return q.result.get({ id: jobId });
    },
    async logLeaves(logId, from = 0) {
      adoptLegacyLog(logId);
      return db
        .select({ h: t.results.structHash })
        .from(t.results)
        .where(and(eq(t.results.logId, logId), gte(t.results.logIndex, from)))
        .orderBy(asc(t.results.logIndex))
        .all()
        .map((r) => r.h);
    },
    async logIds() {
      const rows = sqlite
        .prepare<[], { id: string }>(
          "SELECT log_id AS id FROM results WHERE log_id <> '' UNION SELECT log_id FROM tree_heads WHERE log_id <> '' ORDER BY 1",
        )
        .all();
      return rows.map((r) => r.id);
    },
    async putTreeHead(logId, row: TreeHeadRow) {
      adoptLegacyLog(logId);
      db.insert(t.treeHeads)
        .values({ logId, ...row })
        .onConflictDoNothing()
        .run();
    },
    async treeHead(logId, size) {
      adoptLegacyLog(logId);
      const cols = {
        treeSize: t.treeHeads.treeSize,
        rootHash: t.treeHeads.rootHash,
        timestamp: t.treeHeads.timestamp,
        jws: t.treeHeads.jws,
        chainSignature: t.treeHeads.chainSignature,
      };
      const heads = db.select(cols).from(t.treeHeads);
      return size === undefined
        ? heads.where(eq(t.treeHeads.logId, logId)).orderBy(desc(t.treeHeads.treeSize)).limit(1).get()
        : heads.where(and(eq(t.treeHeads.logId, logId), eq(t.treeHeads.treeSize, size))).get();
    },
  };
}
