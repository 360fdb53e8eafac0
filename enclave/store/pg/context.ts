// What every method group of the shared store works through: the pool, drizzle over it, the runner of the fixed
// statements (each counted and traced), the deadlock retry, the error guard, and the group calls under way.
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import type { PgConnection, PgSql } from './connect.ts';
import { isRetriable, storeError } from './errors.ts';
import * as t from './schema.ts';

/** Tries of a transaction that lost a deadlock against another instance's (it was rolled back whole). */
const RETRIES = 3;

export type PgDb = PostgresJsDatabase<typeof t>;

export type PgContext = {
  readonly sql: PgSql;
  readonly db: PgDb;
  /** A fixed statement, prepared on each connection the first time it runs there. */
  run<R>(text: string, params: postgres.ParameterOrJSON<never>[]): Promise<R[]>;
  /** Runs a one-statement transaction again if it lost a deadlock against another instance's. */
  retrying<R>(op: () => Promise<R>): Promise<R>;
  /** Every method's errors pass through here: a lost connection becomes ERR_STORE_UNAVAILABLE. */
  guard<R>(op: () => Promise<R>): Promise<R>;
  /** The error a caller hears for `e`: coded, without the URL's secrets. */
  fail(e: unknown): unknown;
  /** Keeps a group call (acceptances, draws) for close() to let finish. */
  track(p: Promise<void>): void;
  /** Statements sent so far (round trips, for /metrics). */
  queryCount(): number;
  isClosed(): boolean;
  close(): Promise<void>;
};

export function pgContext({ sql, secrets }: PgConnection, trace: ((sql: string) => void) | undefined): PgContext {
  let closed = false;
  // Every statement the store sends is counted (its round trips, for /metrics) and traced.
  let queries = 0;
  const sent = (text: string) => {
    queries++;
    trace?.(text);
  };
  const fail = (e: unknown) => storeError(e, secrets);
  // The group calls under way, which close() lets finish.
  const inFlight = new Set<Promise<void>>();
  return {
    sql,
    db: drizzle(sql, { schema: t, logger: { logQuery: sent } }),
    run<R>(text: string, params: postgres.ParameterOrJSON<never>[]) {
      sent(text);
      return sql.unsafe<R[]>(text, params as never, { prepare: true }).then((rows) => Array.from(rows));
    },
    async retrying<R>(op: () => Promise<R>): Promise<R> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await op();
        } catch (e) {
          if (attempt >= RETRIES || !isRetriable(e)) throw e;
        }
      }
    },
    async guard<R>(op: () => Promise<R>): Promise<R> {
      try {
        return await op();
      } catch (e) {
        throw fail(e);
      }
    },
    fail,
    track(p) {
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
    queryCount: () => queries,
    isClosed: () => closed,
    async close() {
      closed = true;
      // Acceptances and draws asked for before close() go out (their flush is due this turn) and are answered.
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.allSettled([...inFlight]);
      await sql.end({ timeout: 5 });
    },
  };
}
