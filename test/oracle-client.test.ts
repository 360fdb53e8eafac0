// The data-owner client: it refuses a failing enclave before encrypting anything, encrypts to the attested key,
// keeps a verified receipt, and signs consents; plus the end-to-end run against the bank portal over real TLS.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { JWE_HEADER, inputCommitment, proofDigest, type Hex, type ProvenanceProof } from '../protocol/index.ts';
import { startBankPortal, type BankPortal } from '../sim/bank/portal.ts';
import { sampleStatement } from '../sim/bank/sample.ts';
import { decryptSubmission, signReceipt } from '../enclave/ingest.ts';
import { fakeEnclave, type FakeEnclave } from './helpers/fake-enclave.ts';
import {
  checkEnclave,
  encryptSubmission,
  fetchSignedStatement,
  generateOwnerKey,
  sendToEnclave,
  verifyReceipt,
  type CheckedEnclave,
  type FetchLike,
  type OwnerKey,
} from '../oracle/index.ts';

const TOKEN = 'tok_owner_Qm4Zr8sV1xN2';
const NOW = new Date('2026-11-22T04:00:00.000Z');
const deps = { now: () => NOW };

let portal: BankPortal;
let enc: FakeEnclave;
let owner: OwnerKey;
let proof: ProvenanceProof;

beforeAll(async () => {
  portal = await startBankPortal({
    statementFor: sampleStatement,
    accounts: [{ accountId: 'acc-7', token: TOKEN }],
    now: () => NOW,
  });
  enc = await fakeEnclave();
  owner = (await generateOwnerKey()).key;
  proof = (
    await fetchSignedStatement({
      url: portal.statementUrl('acc-7'),
      token: TOKEN,
      caPems: [portal.caPem],
      route: portal.route,
    })
  ).proof;
});
afterAll(() => portal.close());

/** An in-process enclave endpoint: ingest + receipt, answering like the HTTP API would. */
function enclaveEndpoint(seen = new Set<string>()): FetchLike {
  return async (_url, init) => {
    try {
      const accepted = await decryptSubmission((JSON.parse(init.body) as { jwe: string }).jwe, enc.decryptionKey, {
        expectedKid: enc.encryptionKey.kid,
        evidenceDigest: enc.evidenceDigest,
        seenSubmissionIds: seen,
        verifyProvenance: async (p) => p.kind,
        now: () => NOW,
      });
      const { jws } = await signReceipt(accepted, enc.signer, () => NOW);
      return { status: 200, text: async () => JSON.stringify({ receipt: jws }) };
    } catch (e) {
      return { status: 400, text: async () => JSON.stringify({ error: { code: (e as { code?: string }).code } }) };
    }
  };
}

const base = () => ({
  evidence: enc.evidence,
  manifest: enc.manifest,
  policy: enc.policy,
  now: NOW,
  proofs: [proof],
  owner: owner.publicJwk,
  endpoint: 'https://enclave.props.test/v1/submissions',
});

describe('data-owner client: check before sending', () => {
  it('fetches a signed statement from the portal over TLS with the test CA', async () => {
    expect(proof.kind).toBe('signed-source');
  });

  it('refuses an enclave whose evidence fails policy, before encrypting or sending anything', async () => {
    const encrypt = vi.fn(encryptSubmission);
    const fetch = vi.fn(enclaveEndpoint());
    await expect(
      sendToEnclave({ ...base(), verifyEvidence: enc.verifyFail, fetch }, { ...deps, encrypt }),
    ).rejects.toMatchObject({
      code: 'ERR_ORACLE_EVIDENCE_REJECTED',
      detail: 'evidence.simulated: ERR_EVIDENCE_SIMULATED_NOT_ALLOWED',
    });
    expect(encrypt).not.toHaveBeenCalled();
    expect(fetch).not.toHaveBeenCalled();
  });

  it('refuses when the evidence verifier throws, before encrypting', async () => {
    const encrypt = vi.fn(encryptSubmission);
    const verifyEvidence = async () => {
      throw new Error('boom');
    };
    await expect(
      sendToEnclave({ ...base(), verifyEvidence, fetch: enclaveEndpoint() }, { ...deps, encrypt }),
    ).rejects.toMatchObject({ code: 'ERR_ORACLE_EVIDENCE_REJECTED' });
    expect(encrypt).not.toHaveBeenCalled();
  });

  it('refuses an enclave whose manifest code hash the owner policy does not pin, before encrypting', async () => {
    const encrypt = vi.fn(encryptSubmission);
    const policy = { ...enc.policy, manifest: { ...enc.policy.manifest, codeHashes: [`0x${'99'.repeat(32)}`] } };
    await expect(
      sendToEnclave(
        { ...base(), policy, verifyEvidence: enc.verifyOk, fetch: enclaveEndpoint() },
        { ...deps, encrypt },
      ),
    ).rejects.toMatchObject({ code: 'ERR_ORACLE_MANIFEST_REJECTED', detail: 'codeHash not allowed' });
    expect(encrypt).not.toHaveBeenCalled();
  });

  it('attack: a manifest other than the one the evidence binds', async () => {
    const manifest = { ...enc.manifest, executionProvider: 'cuda' as const };
    await expect(checkEnclave({ ...base(), manifest, verifyEvidence: enc.verifyOk })).rejects.toMatchObject({
      code: 'ERR_ORACLE_MANIFEST_REJECTED',
      detail: 'not the manifest the evidence binds',
    });
  });

  it('attack: evidence whose encryption key was swapped after verification', async () => {
    const swapped = {
      ...enc.evidence,
      keys: { ...enc.evidence.keys, encryption: { ...enc.encryptionKey, x: enc.jwsKey.x, y: enc.jwsKey.y } },
    };
    const verifyEvidence = async () => ({
      ok: true,
      checks: [{ id: 'evidence.signature', ok: true }],
      keys: enc.evidence.keys,
    });
    await expect(checkEnclave({ ...base(), evidence: swapped, verifyEvidence })).rejects.toMatchObject({
      code: 'ERR_ORACLE_KEY_NOT_ATTESTED',
    });
  });

  it('attack: swapping the encryption key inside a checked enclave (or in the evidence it was checked from)', async () => {
    const evidence = structuredClone(enc.evidence);
    const checked = await checkEnclave({
      ...base(),
      evidence,
      verifyEvidence: async () => ({ ok: true, checks: [], keys: evidence.keys }),
    });
    expect(() => {
      (checked.encryptionKey as { x: string }).x = enc.jwsKey.x;
    }).toThrow(TypeError);
    expect(Object.isFrozen(checked.evidence.keys.jws)).toBe(true);
    // The caller's own evidence object stays the caller's: changing it later does not reach the checked copy.
    evidence.keys.encryption.x = enc.jwsKey.x;
    expect(checked.encryptionKey.x).toBe(enc.encryptionKey.x);
  });

  it('attack: encrypting to an enclave object that did not come from checkEnclave', async () => {
    const forged = {
      encryptionKey: enc.encryptionKey,
      evidenceDigest: enc.evidenceDigest,
    } as unknown as CheckedEnclave;
    await expect(encryptSubmission({ proofs: [proof], owner: owner.publicJwk }, forged, deps)).rejects.toMatchObject({
      code: 'ERR_ORACLE_EVIDENCE_REJECTED',
    });
  });
});

describe('data-owner client: encrypt, submit, receipt', () => {
  it('submits to a checked enclave and keeps a receipt carrying the input commitment', async () => {
    const out = await sendToEnclave({ ...base(), verifyEvidence: enc.verifyOk, fetch: enclaveEndpoint() }, deps);
    expect(out.receipt.inputCommitment).toBe(inputCommitment([proof]));
    expect(out.receipt.submissionId).toBe(out.submissionId);
    expect(out.receipt.evidenceDigest).toBe(enc.evidenceDigest);
  });

  it('JWE header names the attested key, the checked evidence and the submission id; no record in the clear', async () => {
    const checked = await checkEnclave({ ...base(), verifyEvidence: enc.verifyOk });
    const { jwe, submissionId } = await encryptSubmission({ proofs: [proof], owner: owner.publicJwk }, checked, deps);
    const h = decodeProtectedHeader(jwe) as Record<string, unknown>;
    expect(h).toMatchObject({
      kid: enc.encryptionKey.kid,
      enc: 'A256GCM',
      [JWE_HEADER.evidenceDigest]: enc.evidenceDigest,
      [JWE_HEADER.id]: submissionId,
    });
    // Neither in the text nor in any segment decoded: a JWE whose "ciphertext" merely base64url-encoded the proofs
    // would pass a search of the text alone.
    const decoded = jwe.split('.').map((s) => Buffer.from(s, 'base64url').toString('latin1'));
    const jws = proof.kind === 'signed-source' ? proof.jws : 'x';
    for (const secret of [
      'ACME',
      jws,
      jws.split('.')[1]!,
      Buffer.from(jws.split('.')[1]!, 'base64url').toString('latin1'),
    ]) {
      expect(jwe).not.toContain(secret);
      for (const d of decoded) expect(d).not.toContain(secret);
    }
  });

  it('attack: receipt for another input commitment is refused', async () => {
    const checked = await checkEnclave({ ...base(), verifyEvidence: enc.verifyOk });
    const { jwe, submissionId } = await encryptSubmission({ proofs: [proof], owner: owner.publicJwk }, checked, deps);
    const res = await enclaveEndpoint()('x', { method: 'POST', headers: {}, body: JSON.stringify({ jwe }) });
    const { receipt } = JSON.parse(await res.text()) as { receipt: string };
    await expect(
      verifyReceipt(receipt, {
        jwsKey: enc.jwsKey,
        submissionId,
        evidenceDigest: enc.evidenceDigest,
        inputCommitment: `0x${'00'.repeat(32)}`,
      }),
    ).rejects.toMatchObject({ code: 'ERR_RECEIPT_MISMATCH' });
    const other = await fakeEnclave();
    await expect(
      verifyReceipt(receipt, {
        jwsKey: other.jwsKey,
        submissionId,
        evidenceDigest: enc.evidenceDigest,
        inputCommitment: inputCommitment([proof]),
      }),
    ).rejects.toMatchObject({ code: 'ERR_RECEIPT_SIGNATURE_INVALID' });
  });

  it('a replayed submission is refused by the enclave and surfaces as its code', async () => {
    const seen = new Set<string>();
    const endpoint = enclaveEndpoint(seen);
    const checked = await checkEnclave({ ...base(), verifyEvidence: enc.verifyOk });
    const { jwe } = await encryptSubmission({ proofs: [proof], owner: owner.publicJwk }, checked, deps);
    expect((await endpoint('x', { method: 'POST', headers: {}, body: JSON.stringify({ jwe }) })).status).toBe(200);
    const again = await endpoint('x', { method: 'POST', headers: {}, body: JSON.stringify({ jwe }) });
    expect(JSON.parse(await again.text())).toEqual({ error: { code: 'ERR_SUBMISSION_REPLAYED' } });
  });

  it('proof digests leave out an attested-fetch body, so a disclosed proof keeps its digest', () => {
    const withBody: ProvenanceProof = { version: 1, kind: 'attested-fetch', jws: 'a.b.c', body: 'AAAA' };
    const without: ProvenanceProof = { version: 1, kind: 'attested-fetch', jws: 'a.b.c' };
    expect(proofDigest(withBody)).toBe(proofDigest(without));
  });
});

describe('data-owner client: the real evidence verifier sees the manifest', () => {
  it('attack: a simulated quote that measures other code than the manifest it binds is refused before encrypting', async () => {
    const { bootEnclave, createSimPlatform, loadPipelinePolicy } = await import('../enclave/index.ts');
    const { loadDefaultPolicy, verifyEvidence } = await import('../verifier/index.ts');
    const { manifestHash } = await import('../protocol/index.ts');
    // The quote's measurements are made for code 0xee…, its report data binds a manifest naming code 0xc0….
    const inner = await createSimPlatform({ clock: () => NOW });
    const platform: typeof inner = {
      ...inner,
      collect: async (a) => {
        const other = { ...a.manifest, codeHash: `0x${'ee'.repeat(32)}` as Hex };
        return inner.collect({ reportData: a.reportData, manifest: other, manifestHash: manifestHash(other) });
      },
    };
    const pipelinePolicy = loadPipelinePolicy();
    const model = { modelHash: pipelinePolicy.modelHash as Hex, executionProvider: 'cpu' as const };
    const codeHash: Hex = `0x${'c0'.repeat(32)}`;
    const enclave = await bootEnclave({ platform, pipelinePolicy, model, codeHash, clock: () => NOW });
    const policy = loadDefaultPolicy();
    policy.evidence.allowSimulated = true;
    policy.manifest = {
      codeHashes: [enclave.manifest.codeHash],
      modelHashes: [enclave.manifest.modelHash],
      policyHashes: [enclave.manifest.policyHash],
    };
    const encrypt = vi.fn(encryptSubmission);
    const fetch = vi.fn(enclaveEndpoint());
    await expect(
      sendToEnclave(
        { ...base(), evidence: enclave.evidence, manifest: enclave.manifest, policy, verifyEvidence, fetch },
        { ...deps, encrypt },
      ),
    ).rejects.toMatchObject({
      code: 'ERR_ORACLE_MANIFEST_REJECTED',
      detail: 'manifest.measurements: ERR_EVIDENCE_MEASUREMENT_MISMATCH',
    });
    expect(encrypt).not.toHaveBeenCalled();
    expect(fetch).not.toHaveBeenCalled();
    // The same enclave honestly measured passes the same check.
    const honest = await bootEnclave({ platform: inner, pipelinePolicy, model, codeHash, clock: () => NOW });
    await expect(
      checkEnclave({ evidence: honest.evidence, manifest: honest.manifest, policy, now: NOW, verifyEvidence }),
    ).resolves.toMatchObject({ manifest: honest.manifest });
  });
});
