// Opening the shared store's database: the URL checked, the driver's connection options, the migration run once on
// a connection of its own, then the pool the store works through.
import postgres from 'postgres';
import { PropsError } from '../../../protocol/index.ts';
import { isConnectionError, safeCause, sqlState, unavailable, urlSecrets } from './errors.ts';
import { DEFAULT_MIGRATION_LOCK_KEY, migratePostgres } from './migrate.ts';

/** Unix times and log indexes are bigint columns; they are read as numbers (all stay below 2^53). */
const TYPES = {
  int8: { to: 20, from: [20], serialize: (x: number | bigint | string) => String(x), parse: (x: string) => Number(x) },
} satisfies Record<string, postgres.PostgresType>;
export type PgSql = postgres.Sql<{ int8: number }>;

export type OpenPostgresStoreOptions = {
  /** Hears the text of every statement run: for diagnostics and query-plan tests. */
  trace?: (sql: string) => void;
  /** Connections in this instance's pool (default 10). */
  max?: number;
  /** The advisory lock key instances migrate under (default: the store's own). */
  instanceLockKey?: number;
  /** Seconds to wait for a connection before the database counts as unavailable (default 5). */
  connectTimeout?: number;
};

/** The pool and the URL's secrets, which no error the store raises may repeat. */
export type PgConnection = { sql: PgSql; secrets: readonly string[] };

function checkUrl(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new PropsError('ERR_STORE_URL_INVALID');
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') throw new PropsError('ERR_STORE_URL_INVALID');
}

/** No `debug`: with it the driver's errors list their statement's parameters as enumerable fields. */
const poolOptions = (max: number, connectTimeout: number) => ({
  max,
  connect_timeout: connectTimeout,
  onnotice: () => {},
  types: TYPES,
  // No statement here takes or returns an array, so a new connection need not first read the array types.
  fetch_types: false,
});

/** Migrates on a connection of its own: the advisory lock belongs to the session that takes it. */
async function migrateOnce(
  url: string,
  connectTimeout: number,
  lockKey: number,
  secrets: readonly string[],
): Promise<void> {
  const migrator = postgres(url, poolOptions(1, connectTimeout));
  try {
    await migratePostgres(migrator, lockKey);
  } catch (e) {
    if (e instanceof PropsError) throw e;
    // Not reached or refused: unavailable here. A migration that failed on the database is the store's failure.
    const state = sqlState(e);
    if (state === undefined || isConnectionError(e)) throw unavailable(e, secrets);
    throw new PropsError('ERR_STORE_FAILED', { detail: `migration failed (${state})`, cause: safeCause(e, secrets) });
  } finally {
    await migrator.end({ timeout: 1 }).catch(() => {});
  }
}

/**
 * Checks `url` (postgres:// or postgresql://), migrates the database under an advisory lock, so that instances
 * starting together migrate it once, and opens the pool.
 */
export async function connectPostgres(url: string, opts: OpenPostgresStoreOptions): Promise<PgConnection> {
  checkUrl(url);
  const secrets = urlSecrets(url);
  const connectTimeout = opts.connectTimeout ?? 5;
  await migrateOnce(url, connectTimeout, opts.instanceLockKey ?? DEFAULT_MIGRATION_LOCK_KEY, secrets);
  return { sql: postgres(url, poolOptions(opts.max ?? 10, connectTimeout)), secrets };
}
