// The embedded store: drizzle-orm over better-sqlite3 in WAL mode, migrated from the committed drizzle-kit SQL.
// better-sqlite3 is synchronous, so each method's transaction is atomic with respect to the event loop too. This file
// assembles the store from its parts: the connection, the prepared statements and the method groups.
import type Database from 'better-sqlite3';
import { sqliteAcceptance } from './sqlite-accept.ts';
import type { CheckpointerLogger } from './checkpointer.ts';
import { openSqliteConnection } from './sqlite-connection.ts';
import { sqliteJobs } from './sqlite-jobs.ts';
import { sqliteLog } from './sqlite-log.ts';
import { sqliteMetaReads } from './sqlite-meta.ts';
import { sqliteConsents, sqliteEvidenceAndSettings, sqliteLendersAndSubmissions } from './sqlite-records.ts';
import { prepareStatements } from './sqlite-statements.ts';
import { tokenBuckets } from './token-bucket.ts';
import type { Store } from './types.ts';

export { MIGRATIONS_FOLDER } from './sqlite-connection.ts';

export type SqliteStoreOptions = {
  /** Hears the text of every statement run (better-sqlite3's `verbose`): for diagnostics and query-plan tests. */
  trace?: (sql: string) => void;
  /** Hears the WAL checkpoint worker's failures, without data; stderr as JSON lines when not given. */
  logger?: CheckpointerLogger;
};

export type SqliteStore = Store & {
  readonly sqlite: Database.Database;
  /** Failures of the WAL checkpoint worker so far (0 for an in-memory database, which has none). */
  readonly checkpointFailures: number;
};

export function openSqliteStore(file = ':memory:', opts: SqliteStoreOptions = {}): SqliteStore {
  const { sqlite, db, checkpointer } = openSqliteConnection(file, opts);
  const statements = prepareStatements(db, sqlite);
  const meta = sqliteMetaReads(statements.raw);
  // The per-lender rate: the only process on the database keeps its buckets in memory.
  const buckets = tokenBuckets();
  return {
    sqlite,
    shared: false,
    takeRequest: buckets.take,
    ...sqliteLendersAndSubmissions(db, statements.q, meta),
    ...sqliteConsents(db, statements.q, meta),
    ...sqliteAcceptance(sqlite, statements, meta.submissionMeta),
    ...sqliteJobs(db, statements.q),
    ...sqliteLog(sqlite, db, statements.q),
    ...sqliteEvidenceAndSettings(db),
    watch() {
      // No other process shares an embedded database.
      return () => {};
    },
    get checkpointFailures() {
      return checkpointer?.failures ?? 0;
    },
    // The worker's connection closes first, so this one is the last: SQLite checkpoints the WAL and removes the -wal
    // and -shm files as it closes, and nothing writes to the database once close has resolved.
    async close() {
      await checkpointer?.stop();
      sqlite.close();
    },
  };
}
