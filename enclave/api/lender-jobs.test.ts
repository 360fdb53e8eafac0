// What a lender can always find again: every earlier job's bundle verifies after a restart (a new boot, new evidence),
// the archive serves each boot's evidence by digest, the lender's job list pages newest first, and a retry with the
// same idempotency key returns the stored job after its consent expired or was used up.
import { describe, expect, it } from 'vitest';
import { verifyBundle } from '../../verifier/index.ts';
import { NOW, simEnclave, simPolicy } from '../../testing/enclave.ts';
import { makeSubmission, newOwner, signConsent, testService } from '../../testing/service.ts';
import { openSqliteStore } from '../store/index.ts';

let n = 0;
const nonce = () => `0x${(++n).toString(16).padStart(64, '0')}`;

async function scored(s: Awaited<ReturnType<typeof testService>>, o: { maxUses?: number; expiresAt?: number } = {}) {
  const owner = await newOwner();
  const lender = await s.newLender('bank-a');
  const auth = { authorization: `Bearer ${lender.apiKey}` };
  const sub = await s.call('POST', '/v1/submissions', { jwe: await makeSubmission(s.enclave, owner) });
  const con = await s.call('POST', '/v1/consents', {
    consent: await signConsent(owner, { submissionId: sub.json.submissionId, lender: lender.lenderId, ...o }),
  });
  expect(con.status).toBe(201);
  const score = (key: string, body: Record<string, unknown> = {}) =>
    s.call(
      'POST',
      '/v1/jobs',
      { consentId: con.json.consentId, nonce: nonce(), ...body },
      { ...auth, 'idempotency-key': key },
    );
  return { auth, score, consentId: con.json.consentId as string };
}

describe('audit bundles across restarts', () => {
  it('a job scored before a restart: its bundle from the restarted service (new boot, new evidence) passes verify', async () => {
    const first = await testService({ seed: 'restart' });
    const w = await scored(first);
    const job = await w.score('restart-key-1');
    expect(job.status).toBe(201);
    first.runner.stop();
    await first.store.close();

    const later = new Date(NOW.getTime() + 3_600_000);
    const enclave = await simEnclave({ seed: 'restart', clock: () => later });
    expect(enclave.evidenceDigest).not.toBe(first.enclave.evidenceDigest);
    const second = await testService({ seed: 'restart', enclave, store: openSqliteStore(first.dbFile) });
    const b = await second.call('GET', `/v1/jobs/${job.json.jobId}/bundle`, undefined, w.auth);
    expect(b.status).toBe(200);
    expect(b.json.evidence).toEqual(first.enclave.evidence);
    const report = await verifyBundle(b.json, { policy: simPolicy(), now: NOW });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    // The archive serves both boots by digest.
    for (const e of [first.enclave, second.enclave]) {
      const r = await second.call('GET', `/v1/attestation/evidence/${e.evidenceDigest}`);
      expect(r.json).toEqual({ evidence: e.evidence, manifest: e.manifest, jwks: e.jwks });
    }
    await second.store.close();
  });

  it('unknown or malformed evidence digests: ERR_EVIDENCE_NOT_FOUND (404), ERR_INPUT_MALFORMED (400)', async () => {
    const s = await testService();
    const missing = await s.call('GET', `/v1/attestation/evidence/0x${'ab'.repeat(32)}`);
    expect([missing.status, missing.json.code]).toEqual([404, 'ERR_EVIDENCE_NOT_FOUND']);
    const bad = await s.call('GET', '/v1/attestation/evidence/0x1234');
    expect([bad.status, bad.json.code]).toEqual([400, 'ERR_INPUT_MALFORMED']);
  });
});

describe('lenders find their jobs', () => {
  it("GET /v1/jobs lists the calling lender's jobs newest first, paged by `after`; another lender sees none of them", async () => {
    const s = await testService();
    const w = await scored(s, { maxUses: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      s.setNow(new Date(NOW.getTime() + i * 1000));
      ids.push((await w.score(`list-key-${i}`)).json.jobId);
    }
    const page1 = await s.call('GET', '/v1/jobs?limit=2', undefined, w.auth);
    expect(page1.status).toBe(200);
    expect(page1.json.jobs.map((j: { jobId: string }) => j.jobId)).toEqual([ids[4], ids[3]]);
    expect(page1.json.next).toBe(ids[3]);
    const page2 = await s.call('GET', `/v1/jobs?limit=2&after=${page1.json.next}`, undefined, w.auth);
    expect(page2.json.jobs.map((j: { jobId: string }) => j.jobId)).toEqual([ids[2], ids[1]]);
    const page3 = await s.call('GET', `/v1/jobs?limit=2&after=${page2.json.next}`, undefined, w.auth);
    expect(page3.json).toMatchObject({ jobs: [{ jobId: ids[0], state: 'done' }], next: null });
    const other = await scored(s);
    expect((await s.call('GET', '/v1/jobs', undefined, other.auth)).json).toEqual({ jobs: [], next: null });
    const foreign = await s.call('GET', `/v1/jobs?after=${ids[2]}`, undefined, other.auth);
    expect([foreign.status, foreign.json.code]).toEqual([404, 'ERR_JOB_NOT_FOUND']);
  });

  it('list parameters are strict: limit 0, 101, 1e2 and unknown fields are ERR_INPUT_MALFORMED; no key is ERR_AUTH_MISSING', async () => {
    const s = await testService();
    const w = await scored(s);
    for (const q of ['limit=0', 'limit=101', 'limit=1e2', 'after=0x12', 'page=2']) {
      const r = await s.call('GET', `/v1/jobs?${q}`, undefined, w.auth);
      expect([q, r.status, r.json.code]).toEqual([q, 400, 'ERR_INPUT_MALFORMED']);
    }
    expect((await s.call('GET', '/v1/jobs')).json.code).toBe('ERR_AUTH_MISSING');
  });

  it('a retry with the same Idempotency-Key returns the stored job after its consent expired', async () => {
    const s = await testService();
    const w = await scored(s, { expiresAt: Math.floor(NOW.getTime() / 1000) + 60 });
    const body = { nonce: nonce() };
    const first = await w.score('expiry-key-1', body);
    expect(first.status).toBe(201);
    s.setNow(new Date(NOW.getTime() + 120_000));
    const retry = await w.score('expiry-key-1', body);
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual(first.json);
    // A new key under the expired consent is still refused, and the same key with another body is a conflict.
    expect((await w.score('expiry-key-2')).json.code).toBe('ERR_CONSENT_EXPIRED');
    expect((await w.score('expiry-key-1')).json.code).toBe('ERR_IDEMPOTENCY_CONFLICT');
  });

  it('a retry with the same Idempotency-Key returns the stored job after its consent was used up', async () => {
    const s = await testService();
    const w = await scored(s, { maxUses: 1 });
    const body = { nonce: nonce() };
    const first = await w.score('uses-key-1', body);
    expect(first.status).toBe(201);
    const retry = await w.score('uses-key-1', body);
    expect([retry.status, retry.json]).toEqual([200, first.json]);
    expect((await w.score('uses-key-2')).json.code).toBe('ERR_CONSENT_EXHAUSTED');
  });
});
