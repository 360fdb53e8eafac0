// The store's behaviour, one suite run against every implementation (the embedded SQLite store and the shared
// PostgreSQL one): the same inputs give the same rows, indexes, refusals and error codes. Each test gets a fresh
// store; a shared store's tests also open a second handle on the same database, as a second instance would.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, pgSuitesRun } from '../../testing/pg.ts';
import { DK, hex, job, NOW, seed } from '../../testing/store-rows.ts';
import { openPostgresStore } from './pg/store.ts';
import { openSqliteStore } from './sqlite.ts';
import type { JobRow, Store } from './types.ts';

type Opened = {
  store: Store;
  /** Another handle on the same database (a second instance); only where the store is shared. */
  second?: () => Promise<Store>;
  /** Runs SQL text that both dialects read alike; rows as the driver gives them. */
  query(text: string): Promise<Array<Record<string, unknown>>>;
};
type Harness = { name: string; available: boolean; open(): Promise<Opened> };

// Everything a test opened is closed (and its database dropped) after it, pass or fail.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sqliteHarness: Harness = {
  name: 'sqlite',
  available: true,
  async open() {
    const store = openSqliteStore(':memory:');
    cleanups.push(() => store.close());
    const query = async (text: string) => {
      const statement = store.sqlite.prepare(text);
      if (statement.reader) return statement.all() as Array<Record<string, unknown>>;
      statement.run();
      return [];
    };
    return { store, query };
  },
};

const pgHarness: Harness = {
  name: 'postgres',
  available: await pgSuitesRun(),
  async open() {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const open = async () => {
      const s = await openPostgresStore(db.url, { max: 4 });
      cleanups.push(() => s.close());
      return s;
    };
    const store = await open();
    return { store, second: open, query: async (text) => Array.from(await store.sql.unsafe(text)) };
  },
};

const JOB_KEYS = Object.keys(job(0)) as Array<keyof JobRow>;
/** A job's JobRow fields only (an implementation may return more columns). */
const jobRow = (j: JobRow | undefined) => (j ? Object.fromEntries(JOB_KEYS.map((k) => [k, j[k]])) : j);
const ids = (jobs: JobRow[]) => jobs.map((j) => j.id);
const codeOf = (e: unknown) => (e as { code?: string }).code;
const accept = (
  store: Store,
  j: JobRow,
  input: Partial<{ now: number; borrowerCap: number; borrowerWindowSeconds: number }> = {},
) => store.acceptJob({ job: j, now: NOW, borrowerCap: 100, borrowerWindowSeconds: 86_400, ...input });
const outcome = (p: Promise<unknown>) => p.then(() => 'accepted', codeOf);
const done = (id: string, h: number, head?: string) => ({
  jobId: id,
  attestation: `{"job":"${id}"}`,
  structHash: hex(h),
  ...(head ? { head } : {}),
});

describe.each([sqliteHarness, pgHarness])('$name store', (h) => {
  const test = h.available ? it : it.skip;

  test('counters restored behind the jobs they counted: consent uses and borrower counts are reported, intact ones are not', async () => {
    const { store, query } = await h.open();
    await seed(store, [job(1), job(2), job(3)]);
    const window = 86_400;
    expect(await store.countersBehindJobs(NOW, window)).toEqual({ consents: 0, borrowers: 0 });
    // A window that ended: the jobs before it are no longer the borrower's to count.
    expect(await store.countersBehindJobs(NOW + 2 * window, window)).toEqual({ consents: 0, borrowers: 0 });
    await query('UPDATE consents SET uses = 2');
    expect(await store.countersBehindJobs(NOW, window)).toEqual({ consents: 1, borrowers: 0 });
    await query('UPDATE consents SET uses = 3');
    await query('UPDATE borrower_queries SET count = 1');
    expect(await store.countersBehindJobs(NOW, window)).toEqual({ consents: 0, borrowers: 1 });
    await query('DELETE FROM borrower_queries');
    expect(await store.countersBehindJobs(NOW, window)).toEqual({ consents: 0, borrowers: 1 });
  });

  test('is shared exactly when other processes can use its database', async () => {
    const { store } = await h.open();
    expect(store.shared).toBe(h.name === 'postgres');
  });

  describe('lenders, submissions and consents', () => {
    test('stores them, finds a lender by key hash, and refuses a duplicate submission or consent', async () => {
      const { store } = await h.open();
      await seed(store, []);
      expect(await store.lenderByKeyHash('kh-1')).toEqual({
        id: 'lender-1',
        name: 'L',
        keyHash: 'kh-1',
        ratePerSecond: 10,
        createdAt: NOW,
      });
      expect(await store.lenderByKeyHash('kh-2')).toBeUndefined();
      expect(await store.getSubmission('sub-1')).toEqual({
        id: 'sub-1',
        ciphertext: 'c',
        inputCommitment: hex(1),
        nullifier: hex(2),
        ownerKey: 'o',
        decryptionKey: DK,
        createdAt: NOW,
        deletedAt: null,
      });
      expect(await store.submissionMeta('sub-1')).toEqual({
        inputCommitment: hex(1),
        nullifier: hex(2),
        decryptionKey: DK,
        live: true,
      });
      expect(await store.submissionMeta('sub-2')).toBeUndefined();
      expect(await store.getConsent(hex(3))).toEqual({
        id: hex(3),
        submissionId: 'sub-1',
        lenderId: 'lender-1',
        purpose: 'credit-scoring',
        expiresAt: NOW + 3600,
        maxUses: 100,
        uses: 0,
        jws: 'a.b.c',
        createdAt: NOW,
      });
      expect(await store.consentMeta(hex(3))).toEqual({
        id: hex(3),
        submissionId: 'sub-1',
        lenderId: 'lender-1',
        purpose: 'credit-scoring',
        expiresAt: NOW + 3600,
        maxUses: 100,
        ref: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      });
      expect(await store.consentMeta(hex(4))).toBeUndefined();
      const sub = {
        id: 'sub-1',
        ciphertext: 'd',
        inputCommitment: hex(1),
        nullifier: hex(2),
        ownerKey: 'o',
        decryptionKey: DK,
        createdAt: NOW,
        deletedAt: null,
      };
      await expect(store.insertSubmission(sub)).rejects.toMatchObject({ code: 'ERR_SUBMISSION_DUPLICATE' });
      const consent = {
        id: hex(3),
        submissionId: 'sub-1',
        lenderId: 'lender-1',
        purpose: 'x',
        expiresAt: NOW,
        maxUses: 1,
        uses: 0,
        jws: 'd.e.f',
        createdAt: NOW,
      };
      await expect(store.insertConsent(consent)).rejects.toMatchObject({ code: 'ERR_CONSENT_DUPLICATE' });
    });

    test('retention deletes old ciphertexts: the submission is no longer live, and a job on it is ERR_SUBMISSION_NOT_FOUND', async () => {
      const { store } = await h.open();
      await seed(store, [job(1)]);
      await store.insertSubmission({
        id: 'sub-2',
        ciphertext: 'c2',
        inputCommitment: hex(1),
        nullifier: hex(2),
        ownerKey: 'o',
        decryptionKey: DK,
        createdAt: NOW + 10,
        deletedAt: null,
      });
      expect(await store.liveSubmissionIds(hex(1))).toEqual(['sub-2', 'sub-1']);
      expect(await store.deleteCiphertexts(NOW + 5, NOW + 100)).toBe(1);
      expect(await store.deleteCiphertexts(NOW + 5, NOW + 100)).toBe(0);
      expect(await store.liveSubmissionIds(hex(1))).toEqual(['sub-2']);
      expect(await store.getSubmission('sub-1')).toMatchObject({ ciphertext: null, deletedAt: NOW + 100 });
      expect(await store.submissionMeta('sub-1')).toEqual({
        inputCommitment: hex(1),
        nullifier: hex(2),
        decryptionKey: DK,
        live: false,
      });
      expect(await outcome(accept(store, job(2)))).toBe('ERR_SUBMISSION_NOT_FOUND');
      // Refused without a trace: the consent's use is not spent.
      expect(await store.getConsent(hex(3))).toMatchObject({ uses: 1 });
    });
  });

  describe('acceptance', () => {
    test('accepts a job once per idempotency key: a repeat returns the stored job and spends nothing', async () => {
      const { store } = await h.open();
      await seed(store, []);
      expect(await accept(store, job(1))).toEqual({ job: job(1), created: true });
      // The repeat names the stored job, whatever its later fields.
      const repeat = await accept(store, { ...job(1), id: 'job-other', createdAt: NOW + 5 });
      expect({ created: repeat.created, job: jobRow(repeat.job) }).toEqual({ created: false, job: job(1) });
      expect(jobRow(await store.getJob('job-1'))).toEqual(job(1));
      expect(await store.getJob('job-other')).toBeUndefined();
      expect(jobRow(await store.jobByIdempotencyKey('lender-1', 'idem-1'))).toEqual(job(1));
      expect(await store.jobByIdempotencyKey('lender-2', 'idem-1')).toBeUndefined();
      expect(await store.jobByIdempotencyKey('lender-1', 'idem-2')).toBeUndefined();
      expect(await store.getConsent(hex(3))).toMatchObject({ uses: 1 });
    });

    test('acceptances in one turn are answered each with its own outcome, in order', async () => {
      const { store } = await h.open();
      await seed(store, [], 2);
      const outcomes = await Promise.all(
        [job(1), job(2), { ...job(3), nonce: job(1).nonce }, job(4), job(1)].map((j) => outcome(accept(store, j))),
      );
      expect(outcomes).toEqual(['accepted', 'accepted', 'ERR_NONCE_REPLAYED', 'ERR_CONSENT_EXHAUSTED', 'accepted']);
      expect(ids(await store.pendingJobs(10))).toEqual(['job-1', 'job-2']);
    });

    test('a refused acceptance leaves no trace: no job row (so no spent nonce), no consent use, no borrower count', async () => {
      const { store, query } = await h.open();
      await seed(store, [job(1)]);
      const state = async () => ({
        jobs: Number((await query('SELECT count(*) AS n FROM jobs'))[0]?.n),
        uses: (await query('SELECT uses FROM consents'))[0]?.uses,
        borrower: (await query('SELECT count FROM borrower_queries'))[0]?.count,
      });
      const before = await state();
      expect(before).toEqual({ jobs: 1, uses: 1, borrower: 1 });
      expect(await outcome(accept(store, { ...job(2), nonce: job(1).nonce }))).toBe('ERR_NONCE_REPLAYED');
      expect(await outcome(accept(store, job(3), { borrowerCap: 1 }))).toBe('ERR_BORROWER_QUERY_CAP');
      expect(await outcome(accept(store, { ...job(4), consentId: hex(99) }))).toBe('ERR_CONSENT_NOT_FOUND');
      expect(await outcome(accept(store, { ...job(5), escrowJobId: hex(7), requestId: job(1).requestId }))).toBe(
        'ERR_ESCROW_JOB_TAKEN',
      );
      expect(await outcome(accept(store, { ...job(6), idempotencyKey: job(1).idempotencyKey }))).toBe(
        'ERR_IDEMPOTENCY_CONFLICT',
      );
      // Same key and same nonce (both unique indexes hit): the idempotency key decides, as an exact repeat shows.
      expect(await outcome(accept(store, { ...job(1), requestHash: hex(999) }))).toBe('ERR_IDEMPOTENCY_CONFLICT');
      expect(await accept(store, job(1))).toMatchObject({ created: false, job: { id: 'job-1' } });
      expect(await state()).toEqual(before);
      // Uses run out: the next acceptance is ERR_CONSENT_EXHAUSTED, again without a trace.
      await query('UPDATE consents SET max_uses = 1');
      expect(await outcome(accept(store, job(7)))).toBe('ERR_CONSENT_EXHAUSTED');
      expect(await state()).toEqual(before);
    });

    test('acceptances of one turn sharing a consent and a borrower count one after another; the refused count nothing', async () => {
      const { store, query } = await h.open();
      await seed(store, [], 3);
      const turn = (from: number, n: number, now: number) =>
        Promise.all(
          Array.from({ length: n }, (_, k) =>
            outcome(
              accept(
                store,
                { ...job(from + k), createdAt: now, updatedAt: now },
                { now, borrowerCap: 2, borrowerWindowSeconds: 60 },
              ),
            ),
          ),
        );
      const state = async () => ({
        uses: (await store.getConsent(hex(3)))?.uses,
        borrower: (await query('SELECT window_start AS w, count AS c FROM borrower_queries')).map((r) => [
          Number(r.w),
          Number(r.c),
        ]),
        jobs: ids(await store.pendingJobs(20)),
      });
      expect(await turn(1, 4, NOW)).toEqual([
        'accepted',
        'accepted',
        'ERR_BORROWER_QUERY_CAP',
        'ERR_BORROWER_QUERY_CAP',
      ]);
      expect(await state()).toEqual({ uses: 2, borrower: [[NOW, 2]], jobs: ['job-1', 'job-2'] });
      // Still within the window: refused at once, nothing written.
      expect(await turn(5, 2, NOW + 59)).toEqual(['ERR_BORROWER_QUERY_CAP', 'ERR_BORROWER_QUERY_CAP']);
      expect(await state()).toEqual({ uses: 2, borrower: [[NOW, 2]], jobs: ['job-1', 'job-2'] });
      // A new window: one use is left on the consent.
      expect(await turn(7, 3, NOW + 60)).toEqual(['accepted', 'ERR_CONSENT_EXHAUSTED', 'ERR_CONSENT_EXHAUSTED']);
      expect(await state()).toEqual({ uses: 3, borrower: [[NOW + 60, 1]], jobs: ['job-1', 'job-2', 'job-7'] });
    });

    test('a first query refused by the cap leaves no borrower row; a retention-deleted submission spends no use in a shared turn', async () => {
      const { store, query } = await h.open();
      await seed(store, []);
      await store.insertSubmission({
        id: 'sub-2',
        ciphertext: 'c',
        inputCommitment: hex(1),
        nullifier: hex(22),
        ownerKey: 'o',
        decryptionKey: DK,
        createdAt: NOW + 10,
        deletedAt: null,
      });
      await store.insertConsent({
        id: hex(33),
        submissionId: 'sub-2',
        lenderId: 'lender-1',
        purpose: 'credit-scoring',
        expiresAt: NOW + 3600,
        maxUses: 5,
        uses: 0,
        jws: 'd.e.f',
        createdAt: NOW,
      });
      expect(await outcome(accept(store, { ...job(1), consentId: hex(33) }, { borrowerCap: 0 }))).toBe(
        'ERR_BORROWER_QUERY_CAP',
      );
      expect(await query('SELECT nullifier FROM borrower_queries')).toEqual([]);
      expect(await store.getConsent(hex(33))).toMatchObject({ uses: 0 });
      // Retention deletes sub-1's ciphertext: in the next turn its job is refused without spending a use, beside an
      // acceptance on the other submission.
      expect(await outcome(accept(store, job(2)))).toBe('accepted');
      await store.deleteCiphertexts(NOW + 1, NOW + 100);
      expect(
        await Promise.all([outcome(accept(store, job(3))), outcome(accept(store, { ...job(4), consentId: hex(33) }))]),
      ).toEqual(['ERR_SUBMISSION_NOT_FOUND', 'accepted']);
      expect(await store.getConsent(hex(3))).toMatchObject({ uses: 1 });
      expect(await store.getConsent(hex(33))).toMatchObject({ uses: 1 });
      expect(
        (await query('SELECT nullifier, count FROM borrower_queries ORDER BY nullifier')).map((r) => [
          r.nullifier,
          Number(r.count),
        ]),
      ).toEqual([
        [hex(2), 1],
        [hex(22), 1],
      ]);
    });

    test('a nonce is spent per lender: another lender may use the same one', async () => {
      const { store } = await h.open();
      await seed(store, [job(1)]);
      await store.createLender({ id: 'lender-2', name: 'M', keyHash: 'kh-2', ratePerSecond: 10, createdAt: NOW });
      expect(await outcome(accept(store, { ...job(2), lenderId: 'lender-2', nonce: job(1).nonce }))).toBe('accepted');
      expect(await outcome(accept(store, { ...job(3), lenderId: 'lender-2', nonce: job(1).nonce }))).toBe(
        'ERR_NONCE_REPLAYED',
      );
    });

    test('escrow job squatting: another lender holding an escrow job id (request id) does not refuse the same id to this lender', async () => {
      const { store } = await h.open();
      await seed(store, []);
      await store.createLender({ id: 'lender-2', name: 'M', keyHash: 'kh-2', ratePerSecond: 10, createdAt: NOW });
      const paid = (i: number, lenderId: string): JobRow => ({
        ...job(i),
        lenderId,
        requestId: hex(7),
        escrowJobId: hex(7),
      });
      const acceptId = (j: JobRow) => accept(store, j).then((o) => o.job.id, codeOf);
      expect(await acceptId(paid(1, 'lender-2'))).toBe('job-1');
      expect(await acceptId(paid(2, 'lender-1'))).toBe('job-2');
      expect(await acceptId(paid(3, 'lender-1'))).toBe('ERR_ESCROW_JOB_TAKEN');
      expect(await acceptId(paid(4, 'lender-2'))).toBe('ERR_ESCROW_JOB_TAKEN');
    });

    test('counts a borrower per window: the cap holds within it, a new window starts over at one', async () => {
      const { store, query } = await h.open();
      await seed(store, []);
      const at = (i: number, now: number) =>
        outcome(
          accept(
            store,
            { ...job(i), createdAt: now, updatedAt: now },
            { now, borrowerCap: 2, borrowerWindowSeconds: 60 },
          ),
        );
      expect([await at(1, NOW), await at(2, NOW + 30), await at(3, NOW + 59)]).toEqual([
        'accepted',
        'accepted',
        'ERR_BORROWER_QUERY_CAP',
      ]);
      expect([await at(4, NOW + 60), await at(5, NOW + 61), await at(6, NOW + 62)]).toEqual([
        'accepted',
        'accepted',
        'ERR_BORROWER_QUERY_CAP',
      ]);
      const rows = await query('SELECT window_start AS w, count AS c FROM borrower_queries');
      expect(rows.map((r) => ({ w: Number(r.w), c: Number(r.c) }))).toEqual([{ w: NOW + 60, c: 2 }]);
    });

    test('shared: concurrent acceptances from two instances spend a consent no more than its uses, and a nonce once', async () => {
      const { store, second } = await h.open();
      if (!second) return; // one process: acceptances are serialized by its event loop (the tests above)
      const other = await second();
      await seed(store, [job(1)], 5);
      const replays = [
        { ...job(11), nonce: job(1).nonce },
        { ...job(12), nonce: job(1).nonce },
      ];
      const jobs = [...Array.from({ length: 9 }, (_, i) => job(i + 2)), ...replays];
      const all = await Promise.all(jobs.map((j, i) => outcome(accept(i % 2 ? other : store, j))));
      expect(all.filter((o) => o === 'accepted')).toHaveLength(4);
      expect(all.slice(9)).toEqual(['ERR_NONCE_REPLAYED', 'ERR_NONCE_REPLAYED']);
      expect(all.filter((o) => o === 'ERR_CONSENT_EXHAUSTED')).toHaveLength(5);
      expect(await store.getConsent(hex(3))).toMatchObject({ uses: 5 });
      expect(await store.pendingJobs(20)).toHaveLength(5);
    });
  });

  describe('jobs', () => {
    test("lists a lender's jobs newest first by (createdAt, id), a page after the last page's last key", async () => {
      const { store } = await h.open();
      await seed(store, [job(5, NOW + 1), job(1, NOW), job(3, NOW), job(2, NOW), job(4, NOW + 1)]);
      await store.createLender({ id: 'lender-2', name: 'M', keyHash: 'kh-2', ratePerSecond: 10, createdAt: NOW });
      await accept(store, { ...job(9, NOW + 9), lenderId: 'lender-2' });
      const pages: string[][] = [];
      let before: { createdAt: number; id: string } | undefined;
      for (;;) {
        const page = await store.listJobs('lender-1', 2, before);
        if (page.length === 0) break;
        pages.push(ids(page));
        const last = page.at(-1) as JobRow;
        before = { createdAt: last.createdAt, id: last.id };
      }
      expect(pages).toEqual([['job-5', 'job-4'], ['job-3', 'job-2'], ['job-1']]);
      expect(ids(await store.listJobs('lender-2', 10))).toEqual(['job-9']);
      expect(await store.listJobs('lender-3', 10)).toEqual([]);
    });

    test('reads the backlog oldest first; done and failed jobs leave it', async () => {
      const { store } = await h.open();
      await seed(store, [job(1, NOW + 5), job(2, NOW + 1), job(3, NOW + 3), job(4, NOW + 2)]);
      await store.completeJobs('log-a', [done('job-3', 9)], NOW);
      await store.failJob('job-4', 'ERR_MODEL_RUNTIME', NOW);
      expect(ids(await store.pendingJobs(10))).toEqual(['job-2', 'job-1']);
      expect(ids(await store.pendingJobs(1))).toEqual(['job-2']);
    });

    test('pages the backlog by (createdAt, id): jobs sharing a second are neither skipped nor repeated across pages', async () => {
      const { store } = await h.open();
      await seed(store, [job(5, NOW + 1), job(1, NOW), job(3, NOW), job(2, NOW), job(4, NOW + 1)]);
      const pages: string[][] = [];
      let after: { createdAt: number; id: string } | undefined;
      for (;;) {
        const page = await store.pendingJobs(2, after);
        if (page.length === 0) break;
        pages.push(ids(page));
        const last = page.at(-1) as JobRow;
        after = { createdAt: last.createdAt, id: last.id };
      }
      expect(pages).toEqual([['job-1', 'job-2'], ['job-3', 'job-4'], ['job-5']]);
    });

    test('fails only an accepted job', async () => {
      const { store } = await h.open();
      await seed(store, [job(1), job(2)]);
      await store.completeJobs('log-a', [done('job-1', 10)], NOW + 1);
      await store.failJob('job-1', 'ERR_MODEL_RUNTIME', NOW + 2);
      await store.failJob('job-2', 'ERR_MODEL_RUNTIME', NOW + 3);
      await store.failJob('job-2', 'ERR_INTERNAL', NOW + 4);
      expect(await store.getJob('job-1')).toMatchObject({ state: 'done', errorCode: null, updatedAt: NOW + 1 });
      expect(await store.getJob('job-2')).toMatchObject({
        state: 'failed',
        errorCode: 'ERR_MODEL_RUNTIME',
        updatedAt: NOW + 3,
      });
    });
  });

  describe('claims', () => {
    const claim = (
      store: Store,
      owner: string,
      now: number,
      more: Partial<{ limit: number; includeOwn: boolean; decryptionKey: string }> = {},
    ) => store.claimJobs({ decryptionKey: DK, owner, limit: 10, now, leaseMs: 100, includeOwn: false, ...more });

    test('claims only jobs encrypted to the decryption key, oldest first, leased to the owner', async () => {
      const { store } = await h.open();
      await seed(store, [job(1, NOW + 2), { ...job(2, NOW + 1), decryptionKey: 'dk-2' }, job(3, NOW + 1)]);
      const claimed = await claim(store, 'owner-a', 1_000);
      expect(claimed.map(jobRow)).toEqual([
        { ...job(3, NOW + 1), claimedBy: 'owner-a', leaseUntil: 1_100 },
        { ...job(1, NOW + 2), claimedBy: 'owner-a', leaseUntil: 1_100 },
      ]);
      expect(await store.getJob('job-1')).toMatchObject({ claimedBy: 'owner-a', leaseUntil: 1_100 });
      expect(ids(await claim(store, 'owner-b', 1_000, { decryptionKey: 'dk-2' }))).toEqual(['job-2']);
      expect(await claim(store, 'owner-c', 1_000, { decryptionKey: 'dk-3' })).toEqual([]);
    });

    test('a live lease keeps a job from others and from its owner unless includeOwn; a lease run out lets another take it', async () => {
      const { store } = await h.open();
      await seed(store, [job(1), job(2)]);
      expect(ids(await claim(store, 'owner-a', 1_000, { limit: 1 }))).toEqual(['job-1']);
      expect(ids(await claim(store, 'owner-b', 1_050))).toEqual(['job-2']);
      expect(await claim(store, 'owner-a', 1_050)).toEqual([]);
      expect(
        (await claim(store, 'owner-a', 1_050, { includeOwn: true })).map((j) => [j.id, j.claimedBy, j.leaseUntil]),
      ).toEqual([['job-1', 'owner-a', 1_150]]);
      // The lease lasts until its end: at 1_150 it still holds, past it the job is free.
      expect(await claim(store, 'owner-b', 1_150)).toEqual([]);
      expect((await claim(store, 'owner-b', 1_151)).map((j) => [j.id, j.claimedBy, j.leaseUntil])).toEqual([
        ['job-1', 'owner-b', 1_251],
        ['job-2', 'owner-b', 1_251],
      ]);
    });

    test('two claims at once never return the same job, and between them take every job', async () => {
      const { store, second } = await h.open();
      const other = second ? await second() : store;
      await seed(
        store,
        Array.from({ length: 20 }, (_, i) => job(i + 1, NOW + i)),
      );
      const [a, b] = await Promise.all([
        claim(store, 'owner-a', 1_000, { limit: 15 }),
        claim(other, 'owner-b', 1_000, { limit: 15 }),
      ]);
      const taken = [...ids(a), ...ids(b)];
      expect(new Set(taken).size).toBe(taken.length);
      expect(taken.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `job-${i + 1}`).sort());
      for (const j of a) expect(await store.getJob(j.id)).toMatchObject({ claimedBy: 'owner-a' });
      for (const j of b) expect(await store.getJob(j.id)).toMatchObject({ claimedBy: 'owner-b' });
    });

    test('claimed jobs that are done or failed are no longer claimed', async () => {
      const { store } = await h.open();
      await seed(store, [job(1), job(2), job(3)]);
      await store.completeJobs('log-a', [done('job-1', 1)], NOW);
      await store.failJob('job-2', 'ERR_MODEL_RUNTIME', NOW);
      expect(ids(await claim(store, 'owner-a', 1_000))).toEqual(['job-3']);
    });
  });

  describe('completion and the logs', () => {
    test('completes a job once: a repeat within the call, a retried call and a failed job add no leaf or result', async () => {
      const { store } = await h.open();
      await seed(store, [job(1), job(2), job(3)]);
      await store.failJob('job-3', 'ERR_SUBMISSION_NOT_FOUND', NOW);
      expect(
        await store.completeJobs(
          'log-a',
          [done('job-1', 10), done('job-1', 11), done('job-3', 12), done('job-2', 13)],
          NOW + 1,
        ),
      ).toEqual([
        { jobId: 'job-1', logIndex: 0 },
        { jobId: 'job-2', logIndex: 1 },
      ]);
      expect(await store.completeJobs('log-a', [done('job-2', 14)], NOW + 2)).toEqual([]);
      expect(await store.completeJobs('log-a', [], NOW + 2)).toEqual([]);
      expect(await store.logLeaves('log-a')).toEqual([hex(10), hex(13)]);
      expect(await store.getResult('job-3')).toBeUndefined();
      expect(await store.getJob('job-3')).toMatchObject({ state: 'failed', errorCode: 'ERR_SUBMISSION_NOT_FOUND' });
      expect(await store.getJob('job-1')).toMatchObject({ state: 'done', updatedAt: NOW + 1 });
    });

    test('keeps each batch head once: results name it and get it back; a head whose results are all skipped is not stored', async () => {
      const { store, query } = await h.open();
      await seed(store, [job(1), job(2), job(3), job(4)]);
      await store.completeJobs(
        'log-a',
        [done('job-1', 10, 'h.e.ad1'), done('job-2', 11, 'h.e.ad1'), done('job-3', 12)],
        NOW,
      );
      // job-1 is done already: the second head has no result to keep, and no row.
      await store.completeJobs('log-a', [done('job-1', 13, 'h.e.ad2'), done('job-4', 14, 'h.e.ad3')], NOW);
      expect((await query('SELECT head FROM result_heads ORDER BY id')).map((r) => r.head)).toEqual([
        'h.e.ad1',
        'h.e.ad3',
      ]);
      expect(await store.getResult('job-1')).toEqual({
        jobId: 'job-1',
        attestation: '{"job":"job-1"}',
        logId: 'log-a',
        logIndex: 0,
        head: 'h.e.ad1',
      });
      expect(await store.getResult('job-2')).toEqual({
        jobId: 'job-2',
        attestation: '{"job":"job-2"}',
        logId: 'log-a',
        logIndex: 1,
        head: 'h.e.ad1',
      });
      expect(await store.getResult('job-3')).toEqual({
        jobId: 'job-3',
        attestation: '{"job":"job-3"}',
        logId: 'log-a',
        logIndex: 2,
        head: null,
      });
      expect(await store.getResult('job-4')).toEqual({
        jobId: 'job-4',
        attestation: '{"job":"job-4"}',
        logId: 'log-a',
        logIndex: 3,
        head: 'h.e.ad3',
      });
    });

    test('each log counts its own indexes: two logs interleaved each get 0, 1, 2…', async () => {
      const { store } = await h.open();
      await seed(
        store,
        Array.from({ length: 6 }, (_, i) => job(i + 1)),
      );
      expect(await store.completeJobs('log-a', [done('job-1', 1)], NOW)).toEqual([{ jobId: 'job-1', logIndex: 0 }]);
      expect(await store.completeJobs('log-b', [done('job-2', 2)], NOW)).toEqual([{ jobId: 'job-2', logIndex: 0 }]);
      expect(await store.completeJobs('log-a', [done('job-3', 3)], NOW)).toEqual([{ jobId: 'job-3', logIndex: 1 }]);
      expect(await store.completeJobs('log-b', [done('job-4', 4), done('job-5', 5)], NOW)).toEqual([
        { jobId: 'job-4', logIndex: 1 },
        { jobId: 'job-5', logIndex: 2 },
      ]);
      expect(await store.completeJobs('log-a', [done('job-6', 6)], NOW)).toEqual([{ jobId: 'job-6', logIndex: 2 }]);
      expect(await store.logLeaves('log-a')).toEqual([hex(1), hex(3), hex(6)]);
      expect(await store.logLeaves('log-b')).toEqual([hex(2), hex(4), hex(5)]);
      expect(await store.logLeaves('log-b', 1)).toEqual([hex(4), hex(5)]);
      expect(await store.logLeaves('log-b', 3)).toEqual([]);
      expect(await store.logLeaves('log-c')).toEqual([]);
      expect(await store.getResult('job-4')).toMatchObject({ logId: 'log-b', logIndex: 1 });
    });

    test('a job completed by two owners at once is stored once, in one of their logs', async () => {
      const { store, second } = await h.open();
      const other = second ? await second() : store;
      await seed(store, [job(1), job(2), job(3)]);
      const [a, b] = await Promise.all([
        store.completeJobs('log-a', [done('job-1', 1), done('job-2', 2), done('job-3', 3)], NOW),
        other.completeJobs('log-b', [done('job-3', 13), done('job-2', 12), done('job-1', 11)], NOW),
      ]);
      const stored = [...a.map((r) => ({ ...r, logId: 'log-a' })), ...b.map((r) => ({ ...r, logId: 'log-b' }))];
      expect(stored.map((r) => r.jobId).sort()).toEqual(['job-1', 'job-2', 'job-3']);
      // Each log's indexes run from 0 without a gap.
      expect(a.map((r) => r.logIndex)).toEqual(a.map((_, i) => i));
      expect(b.map((r) => r.logIndex)).toEqual(b.map((_, i) => i));
      for (const r of stored)
        expect(await store.getResult(r.jobId)).toMatchObject({ logId: r.logId, logIndex: r.logIndex });
      expect((await store.logLeaves('log-a')).length + (await store.logLeaves('log-b')).length).toBe(3);
    });

    test('keeps tree heads per log: the head at a size, or the largest; lists every log id', async () => {
      const { store } = await h.open();
      await seed(store, [job(1)]);
      expect(await store.logIds()).toEqual([]);
      const head = (n: number, logId: string) => ({
        treeSize: n,
        rootHash: hex(n),
        timestamp: NOW + n,
        jws: `${logId}.${n}.jws`,
        chainSignature: `0x${n}`,
      });
      await store.putTreeHead('log-b', head(1, 'log-b'));
      await store.putTreeHead('log-b', head(3, 'log-b'));
      await store.putTreeHead('log-b', { ...head(3, 'log-b'), jws: 'other' }); // a head at a size is kept once
      await store.putTreeHead('log-c', head(2, 'log-c'));
      await store.completeJobs('log-a', [done('job-1', 1)], NOW);
      expect(await store.treeHead('log-b')).toEqual(head(3, 'log-b'));
      expect(await store.treeHead('log-b', 1)).toEqual(head(1, 'log-b'));
      expect(await store.treeHead('log-b', 2)).toBeUndefined();
      expect(await store.treeHead('log-c')).toEqual(head(2, 'log-c'));
      expect(await store.treeHead('log-a')).toBeUndefined();
      expect(await store.logIds()).toEqual(['log-a', 'log-b', 'log-c']);
    });
  });

  test('archives evidence once per digest', async () => {
    const { store } = await h.open();
    const row = { digest: hex(1), evidence: '{"e":1}', manifest: '{"m":1}', jwks: '{"keys":[]}', createdAt: NOW };
    expect(await store.getEvidence(hex(1))).toBeUndefined();
    await store.putEvidence(row);
    await store.putEvidence({ ...row, evidence: '{"e":2}', createdAt: NOW + 1 });
    expect(await store.getEvidence(hex(1))).toEqual(row);
  });

  describe('the per-lender rate', () => {
    test("allows a burst of one second's worth, then refuses until tokens refill with time", async () => {
      const { store } = await h.open();
      const take = async (n: number, nowMs: number) => {
        const out: boolean[] = [];
        for (let i = 0; i < n; i++) out.push(await store.takeRequest('lender-1', 5, nowMs));
        return out;
      };
      expect(await take(6, 1_000)).toEqual([true, true, true, true, true, false]);
      expect(await take(2, 1_200)).toEqual([true, false]);
      expect(await take(2, 1_300)).toEqual([false, false]);
      expect(await take(2, 1_400)).toEqual([true, false]);
      // Refills no further than the burst, however long the pause.
      expect(await take(6, 60_000)).toEqual([true, true, true, true, true, false]);
      // Each lender has its own bucket.
      expect(await store.takeRequest('lender-2', 1, 60_000)).toBe(true);
      expect(await store.takeRequest('lender-2', 1, 60_000)).toBe(false);
    });

    test('counts requests of one turn one by one', async () => {
      const { store } = await h.open();
      const turn = await Promise.all(Array.from({ length: 8 }, () => store.takeRequest('lender-1', 5, 1_000)));
      expect(turn).toEqual([true, true, true, true, true, false, false, false]);
    });

    test('shared: two instances together stay within the rate', async () => {
      const { store, second } = await h.open();
      if (!second) return;
      const other = await second();
      const both = await Promise.all(
        Array.from({ length: 16 }, (_, i) => (i % 2 ? other : store).takeRequest('lender-1', 10, 1_000)),
      );
      expect(both.filter(Boolean)).toHaveLength(10);
      const later = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).takeRequest('lender-1', 10, 1_500)),
      );
      expect(later.filter(Boolean)).toHaveLength(5);
    });
  });

  test('shared: an instance hears of jobs accepted and finished by another', async () => {
    const { store, second } = await h.open();
    if (!second) return; // a store no other process shares has nothing to tell
    const other = await second();
    const heard: string[] = [];
    const waitFor = async (n: number) => {
      for (let i = 0; i < 100 && heard.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    };
    const stop = store.watch({
      accepted: (key) => heard.push(`accepted ${key}`),
      finished: (jobIds) => heard.push(`finished ${jobIds.join(',')}`),
    });
    // LISTEN takes effect once its statement ran: wait for a notification of our own making first.
    await new Promise((r) => setTimeout(r, 200));
    await seed(other, [job(1), job(2), job(3)]);
    await waitFor(3);
    expect(heard.splice(0)).toEqual([`accepted ${DK}`, `accepted ${DK}`, `accepted ${DK}`]);
    await other.completeJobs('log-b', [done('job-1', 1), done('job-2', 2)], NOW);
    await other.failJob('job-3', 'ERR_MODEL_RUNTIME', NOW);
    await other.failJob('job-3', 'ERR_MODEL_RUNTIME', NOW); // not accepted any more: nothing to tell
    await waitFor(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard.splice(0)).toEqual(['finished job-1,job-2', 'finished job-3']);
    stop();
    await new Promise((r) => setTimeout(r, 100));
    await accept(other, job(4));
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toEqual([]);
  });

  test("records a value once: the first writer's value is the one every writer gets back", async () => {
    const { store, second } = await h.open();
    const other = second ? await second() : store;
    const [a, b] = await Promise.all([
      store.firstValue('nullifier-key-id', 'value-a'),
      other.firstValue('nullifier-key-id', 'value-b'),
    ]);
    expect(a).toBe(b);
    expect(['value-a', 'value-b']).toContain(a);
    expect(await store.firstValue('nullifier-key-id', 'value-c')).toBe(a);
    expect(await store.firstValue('other-name', 'value-d')).toBe('value-d');
  });

  test('counts the statements a database server was sent; an embedded store has none', async () => {
    const { store } = await h.open();
    if (!store.shared) {
      expect(store.queryCount).toBeUndefined();
      return;
    }
    const before = store.queryCount?.() ?? 0;
    await store.getJob('job-1');
    await Promise.all([store.takeRequest('lender-1', 5, 1_000), store.takeRequest('lender-1', 5, 1_000)]);
    expect(store.queryCount?.()).toBe(before + 2);
  });

  test('records audit events', async () => {
    const { store, query } = await h.open();
    await store.audit('lender.created', 'admin', 'lender-1');
    const rows = await query('SELECT kind, actor, subject FROM audit_events');
    expect(rows).toEqual([{ kind: 'lender.created', actor: 'admin', subject: 'lender-1' }]);
  });
});
