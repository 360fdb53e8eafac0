// The oracle's consent format at the service boundary: a crafted consent is refused with a code, never a 500.
import { describe, expect, it } from 'vitest';
import { checkEnclave, encryptSubmission, generateOwnerKey } from '../../oracle/index.ts';
import { sampleStatement } from '../../sim/bank/sample.ts';
import { loadDefaultPolicy, verifyEvidence } from '../../verifier/index.ts';
import { NOW, simEnclave } from '../../test/helpers.ts';
import { testService } from '../../test/service-helpers.ts';
import { oracleBoundary } from './oracle-adapters.ts';

describe('oracle boundary: consents', () => {
  it('attack: a consent whose payload is not an object (null, a number, a string, an array) is malformed, not a crash', async () => {
    const enclave = await simEnclave({ seed: 'service' });
    const b = oracleBoundary({ enclave, verifyProvenance: async () => { throw new Error('not reached'); }, clock: () => new Date() });
    const w = await testService({ enclave, ingest: b.ingest, verifyConsent: b.verifyConsent });
    for (const payload of ['null', '1', '"x"', '[]']) {
      const consent = `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(payload).toString('base64url')}.c2ln`;
      await expect(b.verifyConsent(consent, async () => undefined)).rejects.toMatchObject({ code: 'ERR_CONSENT_MALFORMED' });
      const r = await w.call('POST', '/v1/consents', { consent });
      expect(r.status).toBe(400);
      expect(r.json.code).toBe('ERR_CONSENT_MALFORMED');
    }
  });
});

describe('oracle boundary: submissions', () => {
  it('memory exhaustion: the ids a flood of submissions leaves behind are bounded, and a replay past the bound is still refused (by the store)', async () => {
    const enclave = await simEnclave({ seed: 'service' });
    // Provenance is not what this test is about: every proof verifies to the same bank statement.
    const verifyProvenance = async () => ({ kind: 'signed-source', signer: 'k', host: 'bank.props.test', time: NOW.toISOString(), revealed: [], body: new Uint8Array(), statement: sampleStatement('acc-1'), digest: `0x${'ab'.repeat(32)}` });
    const b = oracleBoundary({ enclave, verifyProvenance: verifyProvenance as never, clock: () => NOW, cachedIds: 2 });
    const w = await testService({ enclave, ingest: b.ingest, verifyConsent: b.verifyConsent });
    const policy = loadDefaultPolicy();
    policy.evidence.allowSimulated = true;
    const checked = await checkEnclave({ evidence: enclave.evidence, manifest: enclave.manifest, policy, now: NOW, verifyEvidence: (e, opts) => verifyEvidence(e, opts) });
    const jwes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const owner = (await generateOwnerKey()).key;
      const proof = { version: 1 as const, kind: 'signed-source' as const, jws: `e30.e30.${i}` };
      jwes.push((await encryptSubmission({ proofs: [proof], owner: owner.publicJwk }, checked, { now: () => NOW })).jwe);
    }
    for (const jwe of jwes) expect((await w.call('POST', '/v1/submissions', { jwe })).status).toBe(201);
    // The latest ids are still remembered by the boundary; the first one was dropped from it, and the store refuses it.
    expect((await w.call('POST', '/v1/submissions', { jwe: jwes[2] })).json.code).toBe('ERR_SUBMISSION_REPLAYED');
    expect((await w.call('POST', '/v1/submissions', { jwe: jwes[0] })).json.code).toBe('ERR_SUBMISSION_DUPLICATE');
  });
});
