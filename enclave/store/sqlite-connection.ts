// The embedded store's connection: better-sqlite3 in WAL mode with its pragmas, migrated from the committed
// drizzle-kit SQL, and (for a file database) the worker thread that checkpoints its WAL.
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { startCheckpointer, type Checkpointer, type CheckpointerLogger } from './checkpointer.ts';
import * as t from './schema.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

export type SqliteDb = BetterSQLite3Database<typeof t>;
export type SqliteConnection = { sqlite: Database.Database; db: SqliteDb; checkpointer: Checkpointer | undefined };

/** True when a statement failed on one of the table's constraints, as a duplicate does. */
export const isUnique = (e: unknown) => (e as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') === true;

export type SqliteConnectionOptions = {
  /** Hears the text of every statement run (better-sqlite3's `verbose`). */
  trace?: ((sql: string) => void) | undefined;
  /** Hears the checkpoint worker's failures, without data (checkpointer.ts). */
  logger?: CheckpointerLogger | undefined;
};

export function openSqliteConnection(file: string, opts: SqliteConnectionOptions = {}): SqliteConnection {
  const { trace } = opts;
  const sqlite = new Database(file, trace ? { verbose: (sql) => trace(String(sql)) } : {});
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL'); // WAL + NORMAL: a crash of the process loses nothing committed
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('secure_delete = ON'); // deleted ciphertexts are overwritten, not left in free pages
  // Each job acceptance runs in a savepoint, whose statement journal SQLite otherwise keeps in a temporary file: a
  // few kernel writes per job. In memory they cost a copy: 6–13 % less store time per job (bench/store.ts).
  sqlite.pragma('temp_store = MEMORY');
  const db: SqliteDb = drizzle(sqlite, { schema: t });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return { sqlite, db, checkpointer: startWalCheckpoints(sqlite, file, opts.logger) };
}

/** A file database checkpoints its WAL from a worker thread, not on the committing event loop (checkpointer.ts). */
function startWalCheckpoints(
  sqlite: Database.Database,
  file: string,
  logger: CheckpointerLogger | undefined,
): Checkpointer | undefined {
  if (file === ':memory:' || file === '' || sqlite.pragma('journal_mode', { simple: true }) !== 'wal') return undefined;
  // Backstop. The WAL restarts from its start only when a write transaction begins with every frame copied, and
  // under sustained writes the worker's checkpoints (two fsyncs each) never quite catch up with commits a few ms
  // apart: then the writer checkpoints itself once the WAL passes this many pages — copying the few frames the
  // worker has not, but syncing the WAL and the database on the event loop, a 15–40 ms stall (`perf trace` under
  // load). At 8,192 pages that came every ~1.3 s under load here; at 65,536 (a WAL of up to 256 MB) 8 times as rarely.
  sqlite.pragma('wal_autocheckpoint = 65536');
  return startCheckpointer(file, logger ? { logger } : {});
}
