// Attack: the host restores the consent and borrower count rows from an older copy while keeping the jobs (and the
// log): a consent would then pay for more scorings than it allows. The service refuses to start on such a store.
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../enclave/store/index.ts';
import { job, NOW, seed } from '../testing/store-rows.ts';
import { testService } from '../testing/service.ts';

describe('counter rows restored behind their jobs', () => {
  for (const [what, restore] of [
    ['consent use counts reset', 'UPDATE consents SET uses = 0'],
    ['borrower query counts reset', 'UPDATE borrower_queries SET count = 1'],
    ['borrower query counts deleted', 'DELETE FROM borrower_queries'],
  ] as const)
    it(`host restores older counters (${what}): the service refuses to start (ERR_STATE_ROLLED_BACK)`, async () => {
      const store = openSqliteStore(':memory:');
      try {
        await seed(store, [job(1), job(2)]);
        store.sqlite.prepare(restore).run();
        await expect(testService({ store, clock: () => new Date(NOW * 1000) })).rejects.toMatchObject({
          code: 'ERR_STATE_ROLLED_BACK',
        });
      } finally {
        await store.close();
      }
    });

  it('counters intact: the same store starts', async () => {
    const store = openSqliteStore(':memory:');
    try {
      await seed(store, [job(1), job(2)]);
      const svc = await testService({ store, clock: () => new Date(NOW * 1000) });
      svc.runner.stop();
    } finally {
      await store.close();
    }
  });
});
