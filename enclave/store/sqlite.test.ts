// What only the SQLite store has: the backlog read through its partial index (query plans), batch heads as rows of
// their own table, and a database made by the earlier migrations upgraded in place. The behaviour it shares with the
// PostgreSQL store is in behaviour.test.ts.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { describe, expect, it } from 'vitest';
import type { CheckpointerFailure } from './checkpointer.ts';
import { MIGRATIONS_FOLDER, openSqliteStore } from './sqlite.ts';
import { hex, job, NOW, seed } from '../../testing/store-rows.ts';

const indexNames = (db: Database.Database): string[] =>
  (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'").all() as Array<{
      name: string;
    }>
  ).map((r) => r.name);

describe('sqlite store', () => {
  it('keeps each batch head once, as a row of result_heads; a head whose results are all skipped gets no row', async () => {
    const store = openSqliteStore(':memory:');
    await seed(store, [job(1), job(2), job(3), job(4)]);
    const d = (id: string, h: number, head?: string) => ({
      jobId: id,
      attestation: `{"job":"${id}"}`,
      structHash: hex(h),
      ...(head ? { head } : {}),
    });
    await store.completeJobs('log-a', [d('job-1', 10, 'h.e.ad1'), d('job-2', 11, 'h.e.ad1'), d('job-3', 12)], NOW);
    await store.completeJobs('log-a', [d('job-1', 13, 'h.e.ad2'), d('job-4', 14, 'h.e.ad3')], NOW);
    const heads = store.sqlite.prepare('SELECT id, head FROM result_heads ORDER BY id').all() as Array<{
      id: number;
      head: string;
    }>;
    expect(heads.map((r) => r.head)).toEqual(['h.e.ad1', 'h.e.ad3']);
    const headIds = store.sqlite.prepare('SELECT log_index AS i, head_id AS h FROM results ORDER BY log_index').all();
    expect(headIds).toEqual([
      { i: 0, h: heads[0]!.id },
      { i: 1, h: heads[0]!.id },
      { i: 2, h: null },
      { i: 3, h: heads[1]!.id },
    ]);
    await store.close();
  });

  it('reads the backlog oldest first through the partial index jobs_pending, which holds only accepted jobs', async () => {
    let traced: string[] = [];
    const store = openSqliteStore(':memory:', { trace: (q) => traced.push(q) });
    await seed(store, [job(1, NOW + 5), job(2, NOW + 1), job(3, NOW + 3)]);
    await store.completeJobs('log-a', [{ jobId: 'job-3', attestation: '{}', structHash: hex(9) }], NOW);
    traced = [];
    expect((await store.pendingJobs(10)).map((j) => j.id)).toEqual(['job-2', 'job-1']);
    // The plan of the statement pendingJobs actually ran (as traced, parameters filled in).
    expect(traced).toHaveLength(1);
    const plan = store.sqlite.prepare(`EXPLAIN QUERY PLAN ${traced[0]}`).all() as Array<{ detail: string }>;
    expect(plan.map((r) => r.detail).join('\n')).toContain('jobs_pending');
    expect(plan.map((r) => r.detail).join('\n')).not.toContain('TEMP B-TREE');
    expect(
      (
        store.sqlite
          .prepare("SELECT count(*) AS n FROM jobs INDEXED BY jobs_pending WHERE state = 'accepted'")
          .get() as { n: number }
      ).n,
    ).toBe(2);
    await store.close();
  });

  it('pages the backlog by (createdAt, id): jobs sharing a second are neither skipped nor repeated across pages', async () => {
    let traced: string[] = [];
    const store = openSqliteStore(':memory:', { trace: (q) => traced.push(q) });
    await seed(store, [job(5, NOW + 1), job(1, NOW), job(3, NOW), job(2, NOW), job(4, NOW + 1)]);
    const pages: string[][] = [];
    let after: { createdAt: number; id: string } | undefined;
    for (;;) {
      traced = [];
      const page = await store.pendingJobs(2, after);
      if (page.length === 0) break;
      pages.push(page.map((j) => j.id));
      const last = page.at(-1)!;
      after = { createdAt: last.createdAt, id: last.id };
      const plan = store.sqlite.prepare(`EXPLAIN QUERY PLAN ${traced[0]}`).all() as Array<{ detail: string }>;
      expect(plan.map((r) => r.detail).join('\n')).toContain('jobs_pending');
    }
    expect(pages).toEqual([['job-1', 'job-2'], ['job-3', 'job-4'], ['job-5']]);
    await store.close();
  });

  it('upgrades a database made by the earlier migrations in place, keeping its jobs, results and leaves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'props-migrate-'));
    const earlier = join(dir, 'migrations');
    cpSync(MIGRATIONS_FOLDER, earlier, { recursive: true });
    const journalPath = join(earlier, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
    const later = journal.entries.filter((e) => !['0000_init', '0001_submissions_by_inputs'].includes(e.tag));
    for (const e of later) rmSync(join(earlier, `${e.tag}.sql`));
    journal.entries = journal.entries.filter((e) => !later.includes(e));
    writeFileSync(journalPath, JSON.stringify(journal));
    const file = join(dir, 'props.db');
    const old = new Database(file);
    migrate(drizzle(old), { migrationsFolder: earlier });
    expect(indexNames(old)).toContain('results_log_index_unique');
    // Rows written under the earlier schema: one job done (its result and leaf), one still accepted.
    old.exec(`
      INSERT INTO lenders VALUES ('lender-1', 'L', 'kh-1', 10, ${NOW});
      INSERT INTO submissions (id, ciphertext, input_commitment, nullifier, owner_key, created_at) VALUES ('sub-1', 'c', '${hex(1)}', '${hex(2)}', 'o', ${NOW});
      INSERT INTO consents VALUES ('${hex(3)}', 'sub-1', 'lender-1', 'credit-scoring', ${NOW + 3600}, 100, 2, 'a.b.c', ${NOW});
      INSERT INTO jobs VALUES ('job-1', 'lender-1', 'idem-1', 'rh', '${hex(3)}', 'sub-1', '${hex(201)}', '${hex(301)}', NULL, 600, 'done', NULL, ${NOW}, ${NOW});
      INSERT INTO jobs VALUES ('job-2', 'lender-1', 'idem-2', 'rh', '${hex(3)}', 'sub-1', '${hex(202)}', '${hex(302)}', NULL, 600, 'accepted', NULL, ${NOW}, ${NOW});
      INSERT INTO results VALUES ('job-1', '{}', 0);
      INSERT INTO log_leaves VALUES (0, '${hex(9)}', 'job-1');
      INSERT INTO nonces VALUES ('lender-1', '${hex(301)}', ${NOW}), ('lender-1', '${hex(302)}', ${NOW});
    `);
    old.close();

    const reopened = openSqliteStore(file);
    const names = indexNames(reopened.sqlite);
    expect(names).toContain('jobs_pending');
    expect(names).not.toContain('jobs_state');
    expect(names).not.toContain('results_log_index_unique');
    expect(names).toContain('jobs_nonce');
    expect(names).toContain('jobs_request');
    expect(names).not.toContain('jobs_request_id_unique');
    expect(reopened.sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'nonces'").get()).toBeUndefined();
    // A nonce spent before the upgrade stays spent.
    const replay = { ...job(3), nonce: hex(301) };
    await expect(
      reopened.acceptJob({ job: replay, now: NOW, borrowerCap: 100, borrowerWindowSeconds: 86_400 }),
    ).rejects.toMatchObject({ code: 'ERR_NONCE_REPLAYED' });
    expect((await reopened.pendingJobs(10)).map((j) => j.id)).toEqual(['job-2']);
    // The leaf datum moved from log_leaves into the result's row; log_leaves is gone. The one log the database held
    // is the log of the first id asked about.
    expect(await reopened.logLeaves('log-a')).toEqual([hex(9)]);
    expect(reopened.sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'log_leaves'").get()).toBeUndefined();
    expect(await reopened.getResult('job-1')).toEqual({
      jobId: 'job-1',
      attestation: '{}',
      logId: 'log-a',
      logIndex: 0,
      head: null,
    });
    expect(await reopened.getResult('job-2')).toBeUndefined();
    expect(reopened.sqlite.prepare("SELECT log_index AS i FROM jobs WHERE id = 'job-1'").get()).toEqual({ i: 0 });
    // The upgraded log goes on from where it was: the job still pending takes index 1.
    expect(
      await reopened.completeJobs('log-a', [{ jobId: 'job-2', attestation: '{"b":2}', structHash: hex(10) }], NOW),
    ).toEqual([{ jobId: 'job-2', logIndex: 1 }]);
    expect(await reopened.getResult('job-2')).toEqual({
      jobId: 'job-2',
      attestation: '{"b":2}',
      logId: 'log-a',
      logIndex: 1,
      head: null,
    });
    expect(await reopened.logLeaves('log-a')).toEqual([hex(9), hex(10)]);
    expect(await reopened.logIds()).toEqual(['log-a']);
    await reopened.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Flaky store close: close resolves after the checkpoint worker has closed its connection, and nothing is written after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'props-close-'));
    const file = join(dir, 'props.db');
    const failures: CheckpointerFailure[] = [];
    const store = openSqliteStore(file, { logger: (e) => failures.push(e) });
    await seed(store, [job(1), job(2), job(3)]);
    // Long enough for the worker to have opened its connection and run checkpoints.
    await new Promise((r) => setTimeout(r, 100));
    await store.close();
    // The store's own connection closed last, so SQLite checkpointed and removed the WAL and its index as it closed.
    expect(readdirSync(dir)).toEqual(['props.db']);
    const before = statSync(file);
    await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(dir)).toEqual(['props.db']);
    const after = statSync(file);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    expect(store.checkpointFailures).toBe(0);
    expect(failures).toEqual([]);
    rmSync(dir, { recursive: true });
  });
});
