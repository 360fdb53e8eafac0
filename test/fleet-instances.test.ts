// Two service instances in one process on one PostgreSQL database, each with its own enclave (keys, evidence, log):
// a job accepted by one is scored by the instance its submission is encrypted to; the borrower cap counts a borrower
// once across the fleet (one fleet nullifier key); each log is served by both; an instance started from another
// fleet seed is refused.
import { afterAll, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { openPostgresStore } from '../enclave/store/index.ts';
import { verifyBundle } from '../verifier/index.ts';
import { createTestDatabase, pgDescribe } from '../testing/pg.ts';
import { NOW, simEnclave, simPolicy } from '../testing/enclave.ts';
import { makeSubmission, newOwner, signConsent, testService } from '../testing/service.ts';

const describePg = await pgDescribe();
const dropped: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const d of dropped) await d();
});

async function fleetOfTwo(borrowerCap: number) {
  const db = await createTestDatabase();
  dropped.push(db.drop);
  const nullifierKey = new Uint8Array(32).fill(7);
  const limits = { borrowerCap, claimIntervalMs: 50 };
  const a = await testService({
    seed: 'fleet-a',
    enclave: await simEnclave({ seed: 'fleet-a' }),
    store: await openPostgresStore(db.url),
    nullifierKey,
    limits,
  });
  const b = await testService({
    seed: 'fleet-b',
    enclave: await simEnclave({ seed: 'fleet-b' }),
    store: await openPostgresStore(db.url),
    nullifierKey,
    limits,
  });
  const lender = await a.newLender('fleet-lender');
  const auth = { authorization: `Bearer ${lender.apiKey}` };
  const close = async () => {
    for (const s of [a, b]) {
      s.runner.stop();
      await s.store.close();
    }
  };
  return { a, b, lender, auth, close, db };
}

let n = 0;
const nonce = () => `0x${(++n).toString(16).padStart(64, '0')}`;

describePg('a fleet of two instances on one PostgreSQL', () => {
  it('a job accepted by one instance is scored by the instance its submission was encrypted to; its bundle verifies from either', async () => {
    const f = await fleetOfTwo(20);
    const owner = await newOwner();
    const sub = await f.b.call('POST', '/v1/submissions', { jwe: await makeSubmission(f.b.enclave, owner) });
    expect(sub.status).toBe(201);
    const con = await f.a.call('POST', '/v1/consents', {
      consent: await signConsent(owner, { submissionId: sub.json.submissionId, lender: f.lender.lenderId }),
    });
    expect(con.status).toBe(201);
    const job = await f.a.call(
      'POST',
      '/v1/jobs',
      { consentId: con.json.consentId, nonce: nonce() },
      { ...f.auth, 'idempotency-key': 'fleet-key-1' },
    );
    expect(job.status).toBe(201);
    expect(job.json).toMatchObject({ state: 'done', logId: f.b.deps.log.id, logIndex: 0 });
    for (const s of [f.a, f.b]) {
      let bundle = await s.call('GET', `/v1/jobs/${job.json.jobId}/bundle`, undefined, f.auth);
      for (let i = 0; i < 20 && bundle.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 50));
        bundle = await s.call('GET', `/v1/jobs/${job.json.jobId}/bundle`, undefined, f.auth);
      }
      expect(bundle.status).toBe(200);
      expect(bundle.json.evidence).toEqual(f.b.enclave.evidence);
      const report = await verifyBundle(bundle.json, { policy: simPolicy(), now: NOW });
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    }
    expect((await f.a.call('GET', '/v1/logs')).json).toEqual({ own: f.a.deps.log.id, logs: [f.b.deps.log.id] });
    const head = await f.a.call('GET', `/v1/log/head?log=${f.b.deps.log.id}`);
    expect(head.json.treeSize).toBe(1);
    const unknown = await f.a.call('GET', `/v1/log/head?log=0x${'00'.repeat(32)}`);
    expect([unknown.status, unknown.json.code]).toEqual([404, 'ERR_LOG_NOT_FOUND']);
    await f.close();
  });

  it('borrower cap across instances: the same borrower submitting to both instances is counted once (cap 2: 2 of 4 jobs)', async () => {
    const f = await fleetOfTwo(2);
    const consents: string[] = [];
    for (const s of [f.a, f.b]) {
      const owner = await newOwner();
      const sub = await s.call('POST', '/v1/submissions', { jwe: await makeSubmission(s.enclave, owner) });
      const con = await s.call('POST', '/v1/consents', {
        consent: await signConsent(owner, { submissionId: sub.json.submissionId, lender: f.lender.lenderId }),
      });
      consents.push(con.json.consentId);
    }
    const answers = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        (i % 2 ? f.a : f.b).call(
          'POST',
          '/v1/jobs',
          { consentId: consents[i % 2], nonce: nonce() },
          { ...f.auth, 'idempotency-key': `cap-key-${i}` },
        ),
      ),
    );
    expect(answers.filter((r) => r.status === 201)).toHaveLength(2);
    expect(answers.filter((r) => r.status === 429).map((r) => r.json.code)).toEqual([
      'ERR_BORROWER_QUERY_CAP',
      'ERR_BORROWER_QUERY_CAP',
    ]);
    await f.close();
  });

  it('fleet seed mismatch: an instance whose --fleet-seal differs from the one the database was started with exits 2 (ERR_STATE_FLEET_SEAL_MISMATCH)', async () => {
    const db = await createTestDatabase();
    dropped.push(db.drop);
    const store = await openPostgresStore(db.url);
    await store.firstValue('nullifier-key-id', 'another-fleet');
    await store.close();
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'props-fleet-seal-'));
    const lines: string[] = [];
    const { vi } = await import('vitest');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (lines.push(String(s)), true));
    try {
      expect(
        await main([
          'serve',
          '--database-url',
          db.url,
          '--seal',
          join(dir, 'i.seal'),
          '--fleet-seal',
          join(dir, 'fleet.seal'),
        ]),
      ).toBe(2);
    } finally {
      err.mockRestore();
    }
    expect(lines.join('')).toContain('ERR_STATE_FLEET_SEAL_MISMATCH');
  });
});
