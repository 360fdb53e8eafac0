// End to end with the real parts: a sim enclave booted by enclave/boot (its real keys and evidence), the data owner
// checking it with the real verifier/verifyEvidence, a delegated attested fetch signed by the enclave's JWS key, the
// portal's signed statement, ingest verifying both with verifier/provenance against the evidence-bound key, a receipt.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inputCommitment, type Hex } from '../protocol/index.ts';
import {
  provenanceVerifier,
  parseProvenancePolicy,
  loadDefaultPolicy,
  verifyEvidence,
  type Policy,
} from '../verifier/index.ts';
import { bootEnclave, createSimPlatform, loadPipelinePolicy, type Enclave } from '../enclave/index.ts';
import { createAttestedFetcher, fetchDelegated } from '../enclave/fetcher.ts';
import { decryptSubmission, signReceipt } from '../enclave/ingest.ts';
import { nodeEs256Signer } from '../enclave/jws-signer.ts';
import { startBankPortal, type BankPortal } from '../sim/bank/portal.ts';
import { sampleStatement } from '../sim/bank/sample.ts';
import {
  checkEnclave,
  delegateFetch,
  encryptSubmission,
  fetchSignedStatement,
  generateOwnerKey,
  sendToEnclave,
  type FetchLike,
} from '../oracle/index.ts';

const NOW = new Date();
const TOKEN = 'tok_e2e_Jq81mZ';
let enclave: Enclave;
let portal: BankPortal;
let ownerPolicy: Policy;

beforeAll(async () => {
  const pipelinePolicy = loadPipelinePolicy();
  const platform = await createSimPlatform({ clock: () => NOW });
  enclave = await bootEnclave({
    platform,
    pipelinePolicy,
    model: { modelHash: pipelinePolicy.modelHash as Hex, executionProvider: 'cpu' },
    codeHash: `0x${'c0'.repeat(32)}`,
    clock: () => NOW,
  });
  portal = await startBankPortal({
    statementFor: sampleStatement,
    accounts: [{ accountId: 'acc-1', token: TOKEN }],
    now: () => NOW,
  });
  ownerPolicy = loadDefaultPolicy();
  ownerPolicy.evidence.allowSimulated = true; // the owner knowingly accepts the labelled sim platform here
  ownerPolicy.manifest = {
    codeHashes: [enclave.manifest.codeHash],
    modelHashes: [enclave.manifest.modelHash],
    policyHashes: [enclave.manifest.policyHash],
  };
});
afterAll(() => portal?.close());

const verify = (e: unknown, o: { policy: Policy; now: Date; allowSimulated?: boolean }) => verifyEvidence(e, o);

describe('oracle with the real enclave and verifier', () => {
  it('refuses the sim enclave under a policy that does not allow simulated evidence, before encrypting', async () => {
    const encrypt = vi.fn(encryptSubmission);
    const fetch = vi.fn<FetchLike>();
    const owner = (await generateOwnerKey()).key;
    await expect(
      sendToEnclave(
        {
          evidence: enclave.evidence,
          manifest: enclave.manifest,
          policy: loadDefaultPolicy(),
          now: NOW,
          verifyEvidence: verify,
          proofs: [],
          owner: owner.publicJwk,
          endpoint: 'x',
          fetch,
        },
        { now: () => NOW, encrypt },
      ),
    ).rejects.toMatchObject({ code: 'ERR_ORACLE_EVIDENCE_REJECTED' });
    expect(encrypt).not.toHaveBeenCalled();
    expect(fetch).not.toHaveBeenCalled();
  });

  it('refuses an enclave running a model the owner does not pin', async () => {
    const policy = { ...ownerPolicy, manifest: { ...ownerPolicy.manifest, modelHashes: [`0x${'ab'.repeat(32)}`] } };
    await expect(
      checkEnclave({
        evidence: enclave.evidence,
        manifest: enclave.manifest,
        policy,
        now: NOW,
        verifyEvidence: verify,
      }),
    ).rejects.toMatchObject({
      code: 'ERR_ORACLE_MANIFEST_REJECTED',
      detail: 'manifest.model-hash: ERR_MANIFEST_MODEL_HASH_NOT_ALLOWED',
    });
  });

  it('delegated attested fetch + signed statement → submission → ingest with verifier/provenance → receipt', async () => {
    const checked = await checkEnclave({
      evidence: enclave.evidence,
      manifest: enclave.manifest,
      policy: ownerPolicy,
      now: NOW,
      verifyEvidence: verify,
    });
    const jwsKid = enclave.evidence.keys.jws.kid;
    const signer = nodeEs256Signer(enclave.keys.jwsPrivateKey, jwsKid);

    // Inside the enclave: open the delegation, fetch with the token, sign the record with the attested JWS key.
    const { jwe: delegation } = await delegateFetch({ url: portal.statementUrl('acc-1'), token: TOKEN }, checked, {
      now: () => NOW,
    });
    const fetcher = createAttestedFetcher(
      {
        allowedHosts: [portal.host],
        extraCaPems: [portal.caPem],
        useSystemRoots: true,
        maxBodyBytes: 1 << 20,
        timeoutMs: 5000,
      },
      { now: () => NOW, signer, route: portal.route },
    );
    const seen = new Set<string>();
    const addressing = {
      expectedKid: enclave.evidence.keys.encryption.kid,
      evidenceDigest: enclave.evidenceDigest as Hex,
    };
    const fetched = await fetchDelegated(delegation, enclave.keys.encryptionPrivateKey, fetcher, {
      ...addressing,
      seenDelegationIds: seen,
    });

    // The owner's own signed statement, and the submission of both proofs.
    const signed = (
      await fetchSignedStatement({
        url: portal.statementUrl('acc-1'),
        token: TOKEN,
        caPems: [portal.caPem],
        route: portal.route,
      })
    ).proof;
    const provenancePolicy = parseProvenancePolicy({
      version: 2,
      id: 'e2e',
      maxAgeSeconds: 3600,
      clockSkewSeconds: 60,
      maxTranscriptBytes: 1 << 20,
      tlsn: { hosts: [], notaryKeys: [] },
      reclaim: { hosts: [], witnesses: [] },
      signedSource: {
        hosts: [portal.host],
        algorithms: ['ES256'],
        jwks: portal.jwks,
        kids: portal.jwks.keys.map((k) => ({ kid: k.kid, issuers: [portal.host] })),
      },
      attestedFetch: { hosts: [portal.host], algorithms: ['ES256'], enclaveKeys: [], statuses: [200] },
    });
    const endpoint: FetchLike = async (_u, init) => {
      const accepted = await decryptSubmission(
        (JSON.parse(init.body) as { jwe: string }).jwe,
        enclave.keys.encryptionPrivateKey,
        {
          ...addressing,
          seenSubmissionIds: new Set(),
          now: () => NOW,
          // The attested-fetch record is trusted through the key bound in this enclave's own evidence.
          verifyProvenance: provenanceVerifier(provenancePolicy, [enclave.evidence.keys.jws]),
        },
      );
      return {
        status: 200,
        text: async () => JSON.stringify({ receipt: (await signReceipt(accepted, signer, () => NOW)).jws }),
      };
    };
    const owner = (await generateOwnerKey()).key;
    const out = await sendToEnclave(
      {
        evidence: enclave.evidence,
        manifest: enclave.manifest,
        policy: ownerPolicy,
        now: NOW,
        verifyEvidence: verify,
        proofs: [fetched.proof, signed],
        owner: owner.publicJwk,
        endpoint: 'x',
        fetch: endpoint,
      },
      { now: () => NOW },
    );
    expect(out.receipt.inputCommitment).toBe(inputCommitment([fetched.proof, signed]));
    expect(out.receipt.proofCount).toBe(2);
  });
});
