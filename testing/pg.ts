// Test support for the PostgreSQL store: a throwaway database per test, and the rule for a missing server — its suites
// are skipped with one notice on a developer's machine, and fail under CI, where a skip would pass untested code.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { describe } from 'vitest';

/** The server tests use: PROPS_TEST_PG_URL, or the local one with trust authentication. */
export const PG_BASE_URL = process.env.PROPS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const admin = (max = 1) => postgres(PG_BASE_URL, { max, connect_timeout: 3, onnotice: () => {}, idle_timeout: 1 });

/** True when the test server answers a query. */
export async function pgAvailable(): Promise<boolean> {
  const sql = admin();
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** A new, empty database on the test server (`props_t_<random>`) and how to drop it. */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `props_t_${randomBytes(8).toString('hex')}`;
  const sql = admin();
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end({ timeout: 1 });
  }
  const url = new URL(PG_BASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const sql = admin();
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  };
}

const isCi = () => {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
};

/**
 * Whether PostgreSQL suites run here. Unreachable: under CI (env CI set) a failure, thrown; elsewhere false, after a
 * notice on stderr printed once per process.
 */
export async function pgSuitesRun(): Promise<boolean> {
  if (await pgAvailable()) return true;
  const where = new URL(PG_BASE_URL);
  const target = `${where.hostname}:${where.port || '5432'}`;
  if (isCi())
    throw new Error(
      `PostgreSQL is unreachable at ${target}, and CI must run the PostgreSQL suites (start it, or set PROPS_TEST_PG_URL)`,
    );
  if (process.env.PROPS_PG_SKIP_NOTICE_SHOWN !== '1') {
    process.env.PROPS_PG_SKIP_NOTICE_SHOWN = '1';
    process.stderr.write(
      `notice: PostgreSQL is unreachable at ${target}; its store suites are skipped (set PROPS_TEST_PG_URL, or start it)\n`,
    );
  }
  return false;
}

/** `describe`, skipped where the PostgreSQL suites do not run (see pgSuitesRun): `const describePg = await pgDescribe()`. */
export async function pgDescribe(): Promise<ReturnType<typeof describe.skipIf>> {
  return describe.skipIf(!(await pgSuitesRun()));
}
