// The shared store: PostgreSQL through postgres.js, for a fleet of instances on one database. drizzle holds the
// schema, migrates, and builds the cold statements; the hot ones are fixed SQL texts the driver prepares once per
// connection, and the multi-row ones are plpgsql functions (migrations/0001_functions.sql), one round trip each:
// a turn's acceptances, a batch's completions, a turn's rate-limit draws. This file assembles the store from its
// method groups.
import type { Store } from '../types.ts';
import { pgAcceptance } from './accept.ts';
import { connectPostgres, type OpenPostgresStoreOptions, type PgSql } from './connect.ts';
import { pgContext } from './context.ts';
import { pgJobs } from './jobs.ts';
import { pgLog } from './log.ts';
import { pgRateLimit } from './rate.ts';
import { pgConsents, pgEvidenceAndSettings, pgLendersAndSubmissions } from './records.ts';
import { pgWatch } from './watch.ts';

export type { OpenPostgresStoreOptions, PgSql } from './connect.ts';

/**
 * Opens the store on `url` (postgres:// or postgresql://), migrating the database first under an advisory lock, so
 * that instances starting together migrate it once. A database that cannot be reached is ERR_STORE_UNAVAILABLE, one
 * migrated by newer code ERR_STORE_SCHEMA_NEWER. Errors never repeat the URL or its password.
 */
export async function openPostgresStore(
  url: string,
  opts: OpenPostgresStoreOptions = {},
): Promise<Store & { readonly sql: PgSql }> {
  const ctx = pgContext(await connectPostgres(url, opts), opts.trace);
  return {
    sql: ctx.sql,
    shared: true,
    ...pgRateLimit(ctx),
    ...pgLendersAndSubmissions(ctx),
    ...pgConsents(ctx),
    ...pgAcceptance(ctx),
    ...pgJobs(ctx),
    ...pgLog(ctx),
    ...pgEvidenceAndSettings(ctx),
    watch: (events) => pgWatch(ctx, events),
    queryCount: ctx.queryCount,
    close: ctx.close,
  };
}
