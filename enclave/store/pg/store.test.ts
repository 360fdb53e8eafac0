// What only the PostgreSQL store has: a URL to check and keep secret, a shared database to migrate once and to refuse
// when newer, connections that drop and come back, and round trips to keep few (the behaviour it shares with the
// SQLite store is in ../behaviour.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, pgDescribe } from '../../../testing/pg.ts';
import type { JobRow, Store } from '../types.ts';
import { isConnectionError, storeError } from './errors.ts';
import { PG_MIGRATIONS_FOLDER } from './migrate.ts';
import { openPostgresStore } from './store.ts';

const describePg = await pgDescribe();

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const freshDatabase = async () => {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db;
};
const open = async (url: string, opts: Parameters<typeof openPostgresStore>[1] = {}) => {
  const store = await openPostgresStore(url, { max: 4, ...opts });
  cleanups.push(() => store.close());
  return store;
};
/** A connection of the test's own to the same database (not the store's pool). */
const adminOf = (url: string) => {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  cleanups.push(() => sql.end({ timeout: 1 }));
  return sql;
};

const NOW = 1_800_000_000;
const DK = 'dk-1';
const job = (i: number): JobRow => ({
  id: `job-${i}`,
  lenderId: 'lender-1',
  idempotencyKey: `idem-${i}`,
  requestHash: `rh-${i}`,
  consentId: 'consent-1',
  submissionId: 'sub-1',
  requestId: `req-${i}`,
  nonce: `nonce-${i}`,
  escrowJobId: null,
  threshold: 600,
  state: 'accepted',
  errorCode: null,
  createdAt: NOW,
  updatedAt: NOW,
  decryptionKey: DK,
  claimedBy: null,
  leaseUntil: null,
});
const accept = (store: Store, j: JobRow) =>
  store.acceptJob({ job: j, now: NOW, borrowerCap: 1_000, borrowerWindowSeconds: 86_400 });
async function seed(store: Store) {
  await store.createLender({ id: 'lender-1', name: 'L', keyHash: 'kh-1', ratePerSecond: 10, createdAt: NOW });
  await store.insertSubmission({
    id: 'sub-1',
    ciphertext: 'c',
    inputCommitment: 'ic',
    nullifier: 'n',
    ownerKey: 'o',
    decryptionKey: DK,
    createdAt: NOW,
    deletedAt: null,
  });
  await store.insertConsent({
    id: 'consent-1',
    submissionId: 'sub-1',
    lenderId: 'lender-1',
    purpose: 'p',
    expiresAt: NOW + 60,
    maxUses: 1_000,
    uses: 0,
    jws: 'a.b.c',
    createdAt: NOW,
  });
}
const journal = () =>
  JSON.parse(readFileSync(join(PG_MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: Array<{ tag: string; when: number }>;
  };

/** Every message, detail and stack along an error's cause chain, and its full inspection. */
const everythingSaid = (e: unknown): string => {
  const parts = [inspect(e, { depth: 20, showHidden: true })];
  for (let c: unknown = e; c instanceof Error; c = c.cause)
    parts.push(c.message, String((c as { detail?: unknown }).detail), c.stack ?? '');
  return parts.join('\n');
};

describe('postgres store errors', () => {
  it('refuses a URL that is not postgres:// or postgresql:// before connecting, without repeating it', async () => {
    for (const url of [
      'mysql://u:SECRETPW@127.0.0.1/x',
      'http://127.0.0.1:5432/x',
      'SECRETPW',
      'postgres//u:SECRETPW@h/x',
      '',
    ]) {
      const e = await openPostgresStore(url).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'ERR_STORE_URL_INVALID' });
      expect(everythingSaid(e)).not.toContain('SECRETPW');
    }
  });

  it('a database that cannot be reached is ERR_STORE_UNAVAILABLE, and nothing said about it holds the password', async () => {
    const e = await openPostgresStore('postgres://u:SECRETPW@127.0.0.1:1/x', { connectTimeout: 2 }).catch(
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', detail: 'ECONNREFUSED' });
    expect((e as Error).cause).toBeInstanceOf(Error);
    expect(everythingSaid(e)).not.toContain('SECRETPW');
  });

  it('maps lost and refused connections to ERR_STORE_UNAVAILABLE and leaves statement errors as they are', () => {
    const withCode = (code: string) =>
      Object.assign(new Error(`failed: postgres://u:SECRETPW@h/x (${code})`), { code });
    const codes = [
      'ECONNREFUSED',
      'ECONNRESET',
      'CONNECTION_CLOSED',
      'CONNECTION_ENDED',
      'CONNECT_TIMEOUT',
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '08001',
      '28P01',
      '53300',
      '55000',
      '3D000',
    ];
    for (const code of codes) {
      expect(isConnectionError(withCode(code))).toBe(true);
      const mapped = storeError(withCode(code), ['postgres://u:SECRETPW@h/x', 'SECRETPW']);
      expect(mapped).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', detail: code });
      expect(everythingSaid(mapped)).not.toContain('SECRETPW');
    }
    // A refused statement: its SQLSTATE, and none of the driver's detail (the row's values).
    const unique = Object.assign(withCode('23505'), {
      name: 'PostgresError',
      detail: 'Key (id)=(sub-1) already exists.',
    });
    const failed = storeError(unique, ['SECRETPW']);
    expect(failed).toMatchObject({ code: 'ERR_STORE_FAILED', detail: '23505' });
    expect(everythingSaid(failed)).not.toContain('sub-1');
    expect(everythingSaid(failed)).not.toContain('SECRETPW');
    const ours = new Error('not from the database');
    expect(storeError(ours, [])).toBe(ours);
  });
});

describePg('postgres store on a server', () => {
  it('a database that does not exist is ERR_STORE_UNAVAILABLE, without the password', async () => {
    const e = await openPostgresStore('postgres://postgres:SECRETPW@127.0.0.1:5432/props_no_such_database').catch(
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', detail: '3D000' });
    expect(everythingSaid(e)).not.toContain('SECRETPW');
  });

  it('instances opening a fresh database together migrate it once', async () => {
    const db = await freshDatabase();
    const stores = await Promise.all([open(db.url), open(db.url), open(db.url)]);
    const rows = await stores[0]!.sql<Array<{ createdAt: number; n: number }>>`
      SELECT created_at AS "createdAt", count(*) AS n FROM drizzle.__drizzle_migrations GROUP BY created_at ORDER BY created_at`;
    expect(rows.map((r) => ({ ...r }))).toEqual(journal().entries.map((e) => ({ createdAt: e.when, n: 1 })));
    // Each instance works on the schema.
    await seed(stores[0]!);
    expect(await stores[2]!.lenderByKeyHash('kh-1')).toMatchObject({ id: 'lender-1' });
  });

  it('refuses a database migrated by newer code (a migration its journal does not name): ERR_STORE_SCHEMA_NEWER', async () => {
    const db = await freshDatabase();
    const first = await open(db.url);
    await seed(first);
    const later = Math.max(...journal().entries.map((e) => e.when)) + 1_000;
    await adminOf(
      db.url,
    )`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('a later migration', ${later})`;
    await expect(openPostgresStore(db.url)).rejects.toMatchObject({ code: 'ERR_STORE_SCHEMA_NEWER' });
    // An up-to-date database opens again as it is.
    const db2 = await freshDatabase();
    await (await open(db2.url)).close();
    await expect(open(db2.url)).resolves.toBeDefined();
  });

  it('keeps working after its connections are terminated: a call may fail with ERR_STORE_UNAVAILABLE, a later one succeeds, nothing accepted is lost', async () => {
    const db = await freshDatabase();
    const store = await open(db.url);
    const other = await open(db.url);
    await seed(store);
    await Promise.all([accept(store, job(1)), accept(store, job(2))]);
    const heard: string[] = [];
    store.watch({ accepted: (key) => heard.push(key), finished: () => {} });
    await new Promise((r) => setTimeout(r, 200));

    const terminated = await adminOf(db.url)<Array<{ t: boolean }>>`
      SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
    expect(terminated.length).toBeGreaterThanOrEqual(2);
    const retry = async <R>(op: () => Promise<R>): Promise<R> => {
      for (let i = 0; ; i++) {
        try {
          return await op();
        } catch (e) {
          expect(e).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
          if (i === 4) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    expect(await retry(() => store.getJob('job-1'))).toMatchObject({ id: 'job-1', state: 'accepted' });
    expect(await retry(() => accept(store, job(3)))).toMatchObject({ created: true });
    expect((await retry(() => store.pendingJobs(10))).map((j) => j.id)).toEqual(['job-1', 'job-2', 'job-3']);
    // The listening connection came back too: another instance's acceptance is heard.
    heard.length = 0;
    await retry(() => accept(other, job(4)));
    for (let i = 0; i < 50 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(heard).toEqual([DK]);
  });

  it("sends a turn's acceptances as one statement (64 inputs at most), a batch's completion as one, a turn's rate draws as one", async () => {
    const db = await freshDatabase();
    const traced: string[] = [];
    const store = await open(db.url, { trace: (q) => traced.push(q) });
    await seed(store);
    traced.length = 0;
    const jobs = Array.from({ length: 70 }, (_, i) => job(i + 1));
    const outcomes = await Promise.all(jobs.map((j) => accept(store, j)));
    expect(outcomes.every((o) => o.created)).toBe(true);
    expect(traced.filter((q) => q.includes('props_accept_jobs'))).toHaveLength(2);
    expect(traced).toHaveLength(2);

    traced.length = 0;
    const done = await store.completeJobs(
      'log-a',
      jobs.slice(0, 40).map((j, i) => ({ jobId: j.id, attestation: '{}', structHash: `h${i}`, head: 'h.e.ad' })),
      NOW,
    );
    expect(done.map((d) => d.logIndex)).toEqual(jobs.slice(0, 40).map((_, i) => i));
    expect(traced).toHaveLength(1);

    traced.length = 0;
    const draws = await Promise.all(
      [...Array(12).fill('lender-1'), ...Array(3).fill('lender-2')].map((l: string) => store.takeRequest(l, 10, 1_000)),
    );
    expect(draws.filter(Boolean)).toHaveLength(13);
    expect(traced).toHaveLength(1);
  });

  it('hot reads run as statements prepared once per connection', async () => {
    const db = await freshDatabase();
    const store = await open(db.url, { max: 1 });
    await seed(store);
    await accept(store, job(1));
    for (let i = 0; i < 3; i++) {
      await store.getJob('job-1');
      await store.getResult('job-1');
    }
    const prepared = await store.sql<Array<{ statement: string }>>`SELECT statement FROM pg_prepared_statements`;
    const texts = prepared.map((p) => p.statement);
    expect(texts.filter((s) => s.includes('FROM jobs WHERE id = $1'))).toHaveLength(1);
    expect(texts.filter((s) => s.includes('FROM results r LEFT JOIN result_heads'))).toHaveLength(1);
  });

  it('instances accepting jobs on shared consents in opposite orders queue instead of deadlocking', async () => {
    const db = await freshDatabase();
    // Each statement sent, counted: a call that deadlocked would be sent again (the store retries 40P01).
    const traced: string[] = [];
    const trace = (q: string) => void traced.push(q);
    const [a, b] = [await open(db.url, { trace }), await open(db.url, { trace })];
    await seed(a as Store);
    await a!.insertSubmission({
      id: 'sub-2',
      ciphertext: 'c',
      inputCommitment: 'ic',
      nullifier: 'n2',
      ownerKey: 'o',
      decryptionKey: DK,
      createdAt: NOW,
      deletedAt: null,
    });
    await a!.insertConsent({
      id: 'consent-2',
      submissionId: 'sub-2',
      lenderId: 'lender-1',
      purpose: 'p',
      expiresAt: NOW + 60,
      maxUses: 1_000,
      uses: 0,
      jws: 'a.b.c',
      createdAt: NOW,
    });
    const on = (n: number, consent: 1 | 2): JobRow => ({
      ...job(n),
      consentId: `consent-${consent}`,
      submissionId: `sub-${consent}`,
    });
    // Both borrowers' rows exist, and a third party holds them: each call stops at its first borrower, after the
    // consent it met first. Locking at first use, A held consent-1 and B consent-2 there, and each then waited for
    // the other's: a deadlock, one call failed (40P01).
    await accept(a!, on(1, 1));
    await accept(a!, on(2, 2));
    const [admin, watcher] = [adminOf(db.url), adminOf(db.url)];
    // The transaction hands the calls back wrapped: returned bare, its commit would wait for them, and they for it.
    traced.length = 0;
    const { calls } = await admin.begin(async (tx) => {
      await tx`SELECT 1 FROM borrower_queries ORDER BY nullifier FOR UPDATE`;
      const calls = Promise.allSettled([
        ...[on(3, 1), on(4, 2)].map((j) => accept(a!, j)),
        ...[on(5, 2), on(6, 1)].map((j) => accept(b!, j)),
      ]);
      for (let waiting = 0; waiting < 2; await new Promise((r) => setTimeout(r, 20))) {
        const [row] = await watcher<Array<{ n: number }>>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%props_accept_jobs%'`;
        waiting = row?.n ?? 0;
      }
      return { calls };
    });
    const outcomes = await calls;
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(traced.filter((q) => q.includes('props_accept_jobs'))).toHaveLength(2);
    const [uses] = await admin<Array<{ n: number }>>`SELECT sum(uses)::int AS n FROM consents`;
    expect(uses?.n).toBe(6);
  });
});
