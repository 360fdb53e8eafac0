// The SQLite store's job bookkeeping: completion is once per job whatever the caller repeats, the backlog is read
// through its partial index, and a database made by the earlier migrations upgrades in place.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, openSqliteStore } from './sqlite.ts';
import type { JobRow, Store } from './types.ts';

const NOW = 1_800_000_000;
const hex = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const job = (i: number, createdAt = NOW): JobRow => ({
  id: `job-${i}`, lenderId: 'lender-1', idempotencyKey: `idem-${i}`, requestHash: hex(100 + i), consentId: hex(3), submissionId: 'sub-1',
  requestId: hex(200 + i), nonce: hex(300 + i), escrowJobId: null, threshold: 600, state: 'accepted', errorCode: null, createdAt, updatedAt: createdAt,
});

const indexNames = (db: Database.Database): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>).map((r) => r.name);

async function seed(store: Store, jobs: JobRow[]) {
  await store.createLender({ id: 'lender-1', name: 'L', keyHash: 'kh-1', ratePerSecond: 10, createdAt: NOW });
  await store.insertSubmission({ id: 'sub-1', ciphertext: 'c', inputCommitment: hex(1), nullifier: hex(2), ownerKey: 'o', createdAt: NOW, deletedAt: null });
  await store.insertConsent({ id: hex(3), submissionId: 'sub-1', lenderId: 'lender-1', purpose: 'credit-scoring', expiresAt: NOW + 3600, maxUses: 100, uses: 0, jws: 'a.b.c', createdAt: NOW });
  for (const j of jobs) await store.acceptJob({ job: j, now: NOW, borrowerCap: 100, borrowerWindowSeconds: 86_400 });
}

describe('sqlite store', () => {
  it('completes a job once: a repeat within the call, a retried call and a failed job add no leaf or result', async () => {
    const store = openSqliteStore(':memory:');
    await seed(store, [job(1), job(2), job(3)]);
    await store.failJob('job-3', 'ERR_SUBMISSION_NOT_FOUND', NOW);
    const d = (id: string, h: number) => ({ jobId: id, attestation: `{"job":"${id}"}`, structHash: hex(h) });
    expect(await store.completeJobs([d('job-1', 10), d('job-1', 11), d('job-3', 12), d('job-2', 13)], NOW + 1)).toEqual([
      { jobId: 'job-1', logIndex: 0 },
      { jobId: 'job-2', logIndex: 1 },
    ]);
    expect(await store.completeJobs([d('job-2', 14)], NOW + 2)).toEqual([]);
    expect(await store.logLeaves()).toEqual([hex(10), hex(13)]);
    expect(await store.getResult('job-3')).toBeUndefined();
    expect(await store.getJob('job-3')).toMatchObject({ state: 'failed', errorCode: 'ERR_SUBMISSION_NOT_FOUND' });
    expect(await store.getJob('job-1')).toMatchObject({ state: 'done', updatedAt: NOW + 1 });
    await store.close();
  });

  it('keeps each batch head once: results name it and get it back; a head whose results are all skipped is not stored', async () => {
    const store = openSqliteStore(':memory:');
    await seed(store, [job(1), job(2), job(3), job(4)]);
    const d = (id: string, h: number, head?: string) => ({ jobId: id, attestation: `{"job":"${id}"}`, structHash: hex(h), ...(head ? { head } : {}) });
    await store.completeJobs([d('job-1', 10, 'h.e.ad1'), d('job-2', 11, 'h.e.ad1'), d('job-3', 12)], NOW);
    // job-1 is done already: the second head has no result to keep, and no row.
    await store.completeJobs([d('job-1', 13, 'h.e.ad2'), d('job-4', 14, 'h.e.ad3')], NOW);
    const heads = store.sqlite.prepare('SELECT head FROM result_heads ORDER BY id').all() as Array<{ head: string }>;
    expect(heads.map((r) => r.head)).toEqual(['h.e.ad1', 'h.e.ad3']);
    expect(await store.getResult('job-1')).toEqual({ jobId: 'job-1', attestation: '{"job":"job-1"}', logIndex: 0, head: 'h.e.ad1' });
    expect(await store.getResult('job-2')).toEqual({ jobId: 'job-2', attestation: '{"job":"job-2"}', logIndex: 1, head: 'h.e.ad1' });
    expect(await store.getResult('job-3')).toEqual({ jobId: 'job-3', attestation: '{"job":"job-3"}', logIndex: 2, head: null });
    expect(await store.getResult('job-4')).toMatchObject({ logIndex: 3, head: 'h.e.ad3' });
    await store.close();
  });

  it('a refused acceptance leaves no trace: no job row (so no spent nonce), no consent use, no borrower count', async () => {
    const store = openSqliteStore(':memory:');
    await seed(store, [job(1)]);
    const state = () => ({
      jobs: (store.sqlite.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n,
      uses: (store.sqlite.prepare('SELECT uses FROM consents').get() as { uses: number }).uses,
      borrower: (store.sqlite.prepare('SELECT count FROM borrower_queries').get() as { count: number }).count,
    });
    const before = state();
    expect(before).toEqual({ jobs: 1, uses: 1, borrower: 1 });
    const refuse = async (j: JobRow, input: Partial<{ borrowerCap: number }> = {}) =>
      store.acceptJob({ job: j, now: NOW, borrowerCap: 100, borrowerWindowSeconds: 86_400, ...input }).then(() => 'accepted', (e: { code: string }) => e.code);
    expect(await refuse({ ...job(2), nonce: job(1).nonce })).toBe('ERR_NONCE_REPLAYED');
    expect(await refuse(job(3), { borrowerCap: 1 })).toBe('ERR_BORROWER_QUERY_CAP');
    expect(await refuse({ ...job(4), consentId: hex(99) })).toBe('ERR_CONSENT_NOT_FOUND');
    expect(await refuse({ ...job(5), escrowJobId: hex(7), requestId: job(1).requestId })).toBe('ERR_ESCROW_JOB_TAKEN');
    expect(await refuse({ ...job(6), idempotencyKey: job(1).idempotencyKey })).toBe('ERR_IDEMPOTENCY_CONFLICT');
    // Same key and same nonce (both unique indexes hit): the idempotency key decides, as an exact repeat shows.
    expect(await refuse({ ...job(1), requestHash: hex(999) })).toBe('ERR_IDEMPOTENCY_CONFLICT');
    expect(await store.acceptJob({ job: job(1), now: NOW, borrowerCap: 100, borrowerWindowSeconds: 86_400 })).toMatchObject({ created: false, job: { id: 'job-1' } });
    expect(state()).toEqual(before);
    // Uses run out: the next acceptance is ERR_CONSENT_EXHAUSTED, again without a trace.
    store.sqlite.prepare('UPDATE consents SET max_uses = 1').run();
    expect(await refuse(job(7))).toBe('ERR_CONSENT_EXHAUSTED');
    expect(state()).toEqual(before);
    await store.close();
  });

  it('escrow job squatting: another lender holding an escrow job id (request id) does not refuse the same id to this lender', async () => {
    const store = openSqliteStore(':memory:');
    await seed(store, []);
    await store.createLender({ id: 'lender-2', name: 'M', keyHash: 'kh-2', ratePerSecond: 10, createdAt: NOW });
    const accept = (j: JobRow) => store.acceptJob({ job: j, now: NOW, borrowerCap: 100, borrowerWindowSeconds: 86_400 }).then((o) => o.job.id, (e: { code: string }) => e.code);
    const paid = (i: number, lenderId: string): JobRow => ({ ...job(i), lenderId, requestId: hex(7), escrowJobId: hex(7) });
    expect(await accept(paid(1, 'lender-2'))).toBe('job-1');
    expect(await accept(paid(2, 'lender-1'))).toBe('job-2');
    expect(await accept(paid(3, 'lender-1'))).toBe('ERR_ESCROW_JOB_TAKEN');
    expect(await accept(paid(4, 'lender-2'))).toBe('ERR_ESCROW_JOB_TAKEN');
    await store.close();
  });

  it('counts a borrower per window: the cap holds within it, a new window starts over at one', async () => {
    const store = openSqliteStore(':memory:');
    await seed(store, []);
    const at = (i: number, now: number) =>
      store.acceptJob({ job: { ...job(i), createdAt: now, updatedAt: now }, now, borrowerCap: 2, borrowerWindowSeconds: 60 }).then(() => 'ok', (e: { code: string }) => e.code);
    expect([await at(1, NOW), await at(2, NOW + 30), await at(3, NOW + 59)]).toEqual(['ok', 'ok', 'ERR_BORROWER_QUERY_CAP']);
    expect([await at(4, NOW + 60), await at(5, NOW + 61), await at(6, NOW + 62)]).toEqual(['ok', 'ok', 'ERR_BORROWER_QUERY_CAP']);
    expect(store.sqlite.prepare('SELECT window_start AS w, count AS c FROM borrower_queries').get()).toEqual({ w: NOW + 60, c: 2 });
    await store.close();
  });

  it('reads the backlog oldest first through the partial index jobs_pending, which holds only accepted jobs', async () => {
    let traced: string[] = [];
    const store = openSqliteStore(':memory:', { trace: (q) => traced.push(q) });
    await seed(store, [job(1, NOW + 5), job(2, NOW + 1), job(3, NOW + 3)]);
    await store.completeJobs([{ jobId: 'job-3', attestation: '{}', structHash: hex(9) }], NOW);
    traced = [];
    expect((await store.pendingJobs(10)).map((j) => j.id)).toEqual(['job-2', 'job-1']);
    // The plan of the statement pendingJobs actually ran (as traced, parameters filled in).
    expect(traced).toHaveLength(1);
    const plan = store.sqlite.prepare(`EXPLAIN QUERY PLAN ${traced[0]}`).all() as Array<{ detail: string }>;
    expect(plan.map((r) => r.detail).join('\n')).toContain('jobs_pending');
    expect(plan.map((r) => r.detail).join('\n')).not.toContain('TEMP B-TREE');
    expect((store.sqlite.prepare('SELECT count(*) AS n FROM jobs INDEXED BY jobs_pending WHERE state = \'accepted\'').get() as { n: number }).n).toBe(2);
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
    await expect(reopened.acceptJob({ job: replay, now: NOW, borrowerCap: 100, borrowerWindowSeconds: 86_400 })).rejects.toMatchObject({ code: 'ERR_NONCE_REPLAYED' });
    expect((await reopened.pendingJobs(10)).map((j) => j.id)).toEqual(['job-2']);
    expect(await reopened.getResult('job-1')).toEqual({ jobId: 'job-1', attestation: '{}', logIndex: 0, head: null });
    expect(await reopened.getResult('job-2')).toBeUndefined();
    // The leaf datum moved from log_leaves into the result's row; log_leaves is gone.
    expect(await reopened.logLeaves()).toEqual([hex(9)]);
    expect(reopened.sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'log_leaves'").get()).toBeUndefined();
    expect(reopened.sqlite.prepare("SELECT log_index AS i FROM jobs WHERE id = 'job-1'").get()).toEqual({ i: 0 });
    // The upgraded log goes on from where it was: the job still pending takes index 1.
    expect(await reopened.completeJobs([{ jobId: 'job-2', attestation: '{"b":2}', structHash: hex(10) }], NOW)).toEqual([{ jobId: 'job-2', logIndex: 1 }]);
    expect(await reopened.getResult('job-2')).toEqual({ jobId: 'job-2', attestation: '{"b":2}', logIndex: 1, head: null });
    expect(await reopened.logLeaves()).toEqual([hex(9), hex(10)]);
    await reopened.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
