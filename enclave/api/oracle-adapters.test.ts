// The oracle's consent format at the service boundary: a crafted consent is refused with a code, never a 500.
import { describe, expect, it } from 'vitest';
import { checkEnclave, encryptSubmission, generateOwnerKey, grantConsent } from '../../oracle/index.ts';
import { sampleStatement } from '../../sim/bank/sample.ts';
import { loadDefaultPolicy, verifyEvidence } from '../../verifier/index.ts';
import { NOW, simEnclave } from '../../testing/enclave.ts';
import { testService } from '../../testing/service.ts';
import { oracleBoundary } from './oracle-adapters.ts';

describe('oracle boundary: consents', () => {
  it('attack: a consent whose payload is not an object (null, a number, a string, an array) is malformed, not a crash', async () => {
    const enclave = await simEnclave({ seed: 'service' });
    const b = oracleBoundary({
      enclave,
      verifyProvenance: async () => {
        throw new Error('not reached');
      },
      clock: () => new Date(),
    });
    const w = await testService({ enclave, ingest: b.ingest, verifyConsent: b.verifyConsent });
    for (const payload of ['null', '1', '"x"', '[]']) {
      const consent = `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(payload).toString('base64url')}.c2ln`;
      await expect(b.verifyConsent(consent, async () => undefined)).rejects.toMatchObject({
        code: 'ERR_CONSENT_MALFORMED',
      });
      const r = await w.call('POST', '/v1/consents', { consent });
      expect(r.status).toBe(400);
      expect(r.json.code).toBe('ERR_CONSENT_MALFORMED');
    }
  });
});

describe('oracle boundary: consent fields that are not strings', () => {
  it('attack: a consent whose inputCommitment or lender is an object with a toString member is malformed (4xx problem), not a 500', async () => {
    const enclave = await simEnclave({ seed: 'service' });
    const b = oracleBoundary({
      enclave,
      verifyProvenance: async () => {
        throw new Error('not reached');
      },
      clock: () => new Date(),
    });
    const w = await testService({ enclave, ingest: b.ingest, verifyConsent: b.verifyConsent });
    const ic = `0x${'11'.repeat(32)}`;
    for (const claims of [
      { inputCommitment: { toString: 1 }, lender: 'lender-a' },
      { inputCommitment: { toString: {} }, lender: 'lender-a' },
      { inputCommitment: ic, lender: { toString: 1 } },
      { inputCommitment: ic, lender: { valueOf: 1, toString: null } },
      { inputCommitment: ic },
      { inputCommitment: 7, lender: 'lender-a' },
    ]) {
      const consent = `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
      await expect(b.verifyConsent(consent, async () => undefined)).rejects.toMatchObject({
        code: 'ERR_CONSENT_MALFORMED',
      });
      const r = await w.call('POST', '/v1/consents', { consent });
      expect([claims, r.status, r.json.code]).toEqual([claims, 400, 'ERR_CONSENT_MALFORMED']);
      expect(r.type).toBe('application/problem+json');
    }
  });
});

/** A service over the boundary whose provenance verifier answers `verdict` for every proof, and a checked enclave. */
async function boundaryWith(verdict: Record<string, unknown>) {
  const enclave = await simEnclave({ seed: 'service' });
  const b = oracleBoundary({ enclave, verifyProvenance: (async () => verdict) as never, clock: () => NOW });
  const w = await testService({ enclave, ingest: b.ingest, verifyConsent: b.verifyConsent });
  const policy = loadDefaultPolicy();
  policy.evidence.allowSimulated = true;
  const checked = await checkEnclave({
    evidence: enclave.evidence,
    manifest: enclave.manifest,
    policy,
    now: NOW,
    verifyEvidence: (e, opts) => verifyEvidence(e, opts),
  });
  return { b, w, checked };
}

const VERDICT = {
  kind: 'signed-source',
  signer: 'k',
  host: 'bank.props.test',
  time: NOW.toISOString(),
  revealed: [],
  digest: `0x${'ab'.repeat(32)}`,
};

describe('oracle boundary: consents and resubmitted inputs', () => {
  it("consent blocking: the same proofs resubmitted under another owner key do not block the first owner's consent", async () => {
    const { b, w, checked } = await boundaryWith({
      ...VERDICT,
      body: new Uint8Array(),
      statement: sampleStatement('acc-1'),
    });
    const proofs = [{ version: 1 as const, kind: 'signed-source' as const, jws: 'e30.e30.victim' }];
    const victim = (await generateOwnerKey()).key;
    const attacker = (await generateOwnerKey()).key;
    const first = await encryptSubmission({ proofs, owner: victim.publicJwk }, checked, { now: () => NOW });
    expect((await w.call('POST', '/v1/submissions', { jwe: first.jwe })).status).toBe(201);
    // Anyone holding the (public-to-the-host) proofs can submit them again under their own key: same input commitment.
    const again = await encryptSubmission({ proofs, owner: attacker.publicJwk }, checked, { now: () => NOW });
    expect((await w.call('POST', '/v1/submissions', { jwe: again.jwe })).status).toBe(201);
    expect(again.inputCommitment).toBe(first.inputCommitment);

    const grant = (owner: typeof victim) =>
      grantConsent(
        {
          lender: 'lender.acme',
          purpose: 'credit-scoring',
          expiry: new Date(NOW.getTime() + 86_400_000),
          maxUses: 1,
          inputCommitment: first.inputCommitment,
        },
        owner,
        { now: () => NOW },
      );
    expect((await w.call('POST', '/v1/consents', { consent: (await grant(victim)).jws })).status).toBe(201);
    expect((await w.call('POST', '/v1/consents', { consent: (await grant(attacker)).jws })).status).toBe(201);
    // A key that submitted nothing is still refused.
    const stranger = (await generateOwnerKey()).key;
    expect((await w.call('POST', '/v1/consents', { consent: (await grant(stranger)).jws })).json.code).toBe(
      'ERR_CONSENT_SIGNATURE_INVALID',
    );

    // Each consent is bound to the submission whose owner key signed it.
    const keys = new Map([
      [first.submissionId, victim.publicJwk],
      [again.submissionId, attacker.publicJwk],
    ]);
    const ownerKeyOf = async (id: string) => keys.get(id as never);
    const stored = async () => [again.submissionId, first.submissionId]; // newest first
    expect((await b.verifyConsent((await grant(victim)).jws, ownerKeyOf, stored)).submissionId).toBe(
      first.submissionId,
    );
    expect((await b.verifyConsent((await grant(attacker)).jws, ownerKeyOf, stored)).submissionId).toBe(
      again.submissionId,
    );
  });
});

describe('oracle boundary: submissions', () => {
  it('a refused submission retried gets the same refusal code, not ERR_SUBMISSION_REPLAYED', async () => {
    // Its proof verifies but certifies no statement (a reclaim claim, an attested fetch sent without its body).
    const { w, checked } = await boundaryWith({ ...VERDICT, kind: 'reclaim', signer: 'w' });
    const owner = (await generateOwnerKey()).key;
    const { jwe } = await encryptSubmission(
      { proofs: [{ version: 1, kind: 'signed-source', jws: 'e30.e30.x' }], owner: owner.publicJwk },
      checked,
      { now: () => NOW },
    );
    for (let i = 0; i < 2; i++) {
      const r = await w.call('POST', '/v1/submissions', { jwe });
      expect(r.status).toBe(422);
      expect(r.json).toMatchObject({
        code: 'ERR_SUBMISSION_MALFORMED',
        detail: 'exactly one certified statement is required',
      });
    }
  });

  it('attack: two copies of one submission racing through ingest: one is accepted, the other refused as a replay', async () => {
    const { b, checked } = await boundaryWith({
      ...VERDICT,
      body: new Uint8Array(),
      statement: sampleStatement('acc-1'),
    });
    const owner = (await generateOwnerKey()).key;
    const { jwe } = await encryptSubmission(
      { proofs: [{ version: 1, kind: 'signed-source', jws: 'e30.e30.race' }], owner: owner.publicJwk },
      checked,
      { now: () => NOW },
    );
    const results = await Promise.allSettled([b.ingest(jwe), b.ingest(jwe)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'ERR_SUBMISSION_REPLAYED' } });
  });

  it('memory exhaustion: the ids a flood of submissions leaves behind are bounded, and a replay past the bound is still refused (by the store)', async () => {
    const enclave = await simEnclave({ seed: 'service' });
    // Provenance is not what this test is about: every proof verifies to the same bank statement.
    const verifyProvenance = async () => ({
      kind: 'signed-source',
      signer: 'k',
      host: 'bank.props.test',
      time: NOW.toISOString(),
      revealed: [],
      body: new Uint8Array(),
      statement: sampleStatement('acc-1'),
      digest: `0x${'ab'.repeat(32)}`,
    });
    const b = oracleBoundary({ enclave, verifyProvenance: verifyProvenance as never, clock: () => NOW, cachedIds: 2 });
    const w = await testService({ enclave, ingest: b.ingest, verifyConsent: b.verifyConsent });
    const policy = loadDefaultPolicy();
    policy.evidence.allowSimulated = true;
    const checked = await checkEnclave({
      evidence: enclave.evidence,
      manifest: enclave.manifest,
      policy,
      now: NOW,
      verifyEvidence: (e, opts) => verifyEvidence(e, opts),
    });
    const jwes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const owner = (await generateOwnerKey()).key;
      const proof = { version: 1 as const, kind: 'signed-source' as const, jws: `e30.e30.${i}` };
      jwes.push(
        (await encryptSubmission({ proofs: [proof], owner: owner.publicJwk }, checked, { now: () => NOW })).jwe,
      );
    }
    for (const jwe of jwes) expect((await w.call('POST', '/v1/submissions', { jwe })).status).toBe(201);
    // The latest ids are still remembered by the boundary; the first one was dropped from it, and the store refuses it.
    expect((await w.call('POST', '/v1/submissions', { jwe: jwes[2] })).json.code).toBe('ERR_SUBMISSION_REPLAYED');
    expect((await w.call('POST', '/v1/submissions', { jwe: jwes[0] })).json.code).toBe('ERR_SUBMISSION_DUPLICATE');
  });
});
