// The service on PostgreSQL when the database goes away and comes back: every request meanwhile is answered 503
// problem+json ERR_STORE_UNAVAILABLE (never a 500 or a hang), and once the database is back the service serves again
// with every job accepted before the outage intact.
import postgres from 'postgres';
import { afterAll, expect, it } from 'vitest';
import { openPostgresStore } from '../enclave/store/index.ts';
import { createTestDatabase, pgDescribe, PG_BASE_URL } from '../testing/pg.ts';
import { makeSubmission, newOwner, signConsent, testService } from '../testing/service.ts';

const describePg = await pgDescribe();
const dropped: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const d of dropped) await d();
});

describePg('store outage (PostgreSQL)', () => {
  it('answers 503 ERR_STORE_UNAVAILABLE while the database refuses connections, and recovers without losing a job', async () => {
    const db = await createTestDatabase();
    dropped.push(db.drop);
    const store = await openPostgresStore(db.url);
    const s = await testService({ store });
    const owner = await newOwner();
    const lender = await s.newLender('outage');
    const auth = { authorization: `Bearer ${lender.apiKey}` };
    const sub = await s.call('POST', '/v1/submissions', { jwe: await makeSubmission(s.enclave, owner) });
    const con = await s.call('POST', '/v1/consents', {
      consent: await signConsent(owner, { submissionId: sub.json.submissionId, lender: lender.lenderId, maxUses: 10 }),
    });
    const score = (i: number) =>
      s.call(
        'POST',
        '/v1/jobs',
        { consentId: con.json.consentId, nonce: `0x${i.toString(16).padStart(64, '0')}` },
        { ...auth, 'idempotency-key': `outage-key-${i}` },
      );
    const before = await score(1);
    expect(before.status).toBe(201);

    const admin = postgres(PG_BASE_URL, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${db.name}`;
      for (const r of [
        await score(2),
        await s.call('GET', `/v1/jobs/${before.json.jobId}`, undefined, auth),
        await s.call('GET', '/v1/jobs', undefined, auth),
      ]) {
        expect([r.status, r.type, r.json.code]).toEqual([503, 'application/problem+json', 'ERR_STORE_UNAVAILABLE']);
      }
      await admin.unsafe(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    } finally {
      await admin.end();
    }
    // Back: the job accepted before is there, done; a retry of the refused request is accepted now.
    let again = await score(2);
    for (let i = 0; i < 20 && again.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = await score(2);
    }
    expect(again.status).toBe(201);
    expect((await s.call('GET', `/v1/jobs/${before.json.jobId}`, undefined, auth)).json).toMatchObject({
      state: 'done',
      logIndex: 0,
    });
    expect((await s.call('GET', '/v1/jobs', undefined, auth)).json.jobs).toHaveLength(2);
    expect(s.logLines.filter((l) => l.includes('"ERR_INTERNAL"'))).toEqual([]);
    s.runner.stop();
    await store.close();
  });
});
