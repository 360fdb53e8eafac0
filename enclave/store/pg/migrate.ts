// Migrating the shared database: one instance at a time (a session advisory lock on the connection that migrates),
// and never a database that a newer release has already migrated further than this code knows.
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type postgres from 'postgres';
import { PropsError } from '../../../protocol/index.ts';

export const PG_MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/** The advisory lock instances migrate under unless told another ('props' in ASCII). */
export const DEFAULT_MIGRATION_LOCK_KEY = 0x70726f7073;

/**
 * Migrates through `client`, which must hold a single connection (the lock is that session's): waits for any other
 * instance's migration to end, refuses a database holding a migration this code's journal does not name
 * (ERR_STORE_SCHEMA_NEWER: running older code on it could break what the newer migration set up), then applies the
 * missing ones with drizzle's migrator (each run in one transaction).
 */
export async function migratePostgres<T extends Record<string, unknown>>(
  client: postgres.Sql<T>,
  lockKey = DEFAULT_MIGRATION_LOCK_KEY,
): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder: PG_MIGRATIONS_FOLDER });
  const known = new Set(migrations.map((m) => m.folderMillis));
  await client`SELECT pg_advisory_lock(${lockKey})`;
  try {
    const [table] = await client<
      Array<{ present: boolean }>
    >`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`;
    if (table?.present) {
      // drizzle's migrator knows a migration by its journal time (created_at), and applies those later than the last.
      const applied = await client<
        Array<{ createdAt: string | number | null }>
      >`SELECT created_at AS "createdAt" FROM drizzle.__drizzle_migrations`;
      if (applied.some((m) => !known.has(Number(m.createdAt)))) throw new PropsError('ERR_STORE_SCHEMA_NEWER');
    }
    await migrate(drizzle(client), { migrationsFolder: PG_MIGRATIONS_FOLDER });
  } finally {
    // A lost connection released the lock with its session; nothing else to undo.
    await client`SELECT pg_advisory_unlock(${lockKey})`.catch(() => {});
  }
}
