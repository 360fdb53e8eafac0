// Enclave ingest: coded refusals for malformed, misaddressed, replayed and oversized submissions, nothing remembered
// for a rejected one, and the delegated attested fetch (token sent encrypted) against the bank portal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import {
  DELEGATION_JWE_TYP,
  JWE_HEADER,
  PropsError,
  SUBMISSION_JWE_TYP,
  inputCommitment,
  utf8,
  type ProvenanceProof,
} from '../protocol/index.ts';
import { startBankPortal, type BankPortal } from '../sim/bank/portal.ts';
import { sampleStatement } from '../sim/bank/sample.ts';
import { fakeEnclave, type FakeEnclave } from './helpers/fake-enclave.ts';
import {
  checkEnclave,
  delegateFetch,
  encryptSubmission,
  generateOwnerKey,
  type CheckedEnclave,
  type OwnerKey,
} from '../oracle/index.ts';
import { decryptSubmission, type DecryptSubmissionOptions } from '../enclave/ingest.ts';
import { createAttestedFetcher, fetchDelegated } from '../enclave/fetcher.ts';

const NOW = new Date('2026-11-22T04:00:00.000Z');
const deps = { now: () => NOW };
const PROOF: ProvenanceProof = { version: 1, kind: 'signed-source', jws: 'eyJhbGciOiJFUzI1NiJ9.eyJ2IjoxfQ.c2ln' };

let enc: FakeEnclave;
let checked: CheckedEnclave;
let owner: OwnerKey;

beforeAll(async () => {
  enc = await fakeEnclave();
  owner = (await generateOwnerKey()).key;
  checked = await checkEnclave({
    evidence: enc.evidence,
    manifest: enc.manifest,
    policy: enc.policy,
    now: NOW,
    verifyEvidence: enc.verifyOk,
  });
});

const opts = (seen = new Set<string>(), over: Partial<DecryptSubmissionOptions> = {}): DecryptSubmissionOptions => ({
  expectedKid: enc.encryptionKey.kid,
  evidenceDigest: enc.evidenceDigest,
  seenSubmissionIds: seen,
  verifyProvenance: async (p) => p.kind,
  now: () => NOW,
  ...over,
});

const encrypt = () => encryptSubmission({ proofs: [PROOF], owner: owner.publicJwk }, checked, deps);

/** A JWE with a chosen header, to the enclave's real key (what an attacker can always make). */
async function handmade(header: Record<string, unknown>, plaintext: unknown): Promise<string> {
  const key = await importJWK(
    { kty: 'EC', crv: 'P-256', x: enc.encryptionKey.x, y: enc.encryptionKey.y } as JWK,
    'ECDH-ES+A256KW',
  );
  return new CompactEncrypt(utf8(JSON.stringify(plaintext)))
    .setProtectedHeader({
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      typ: SUBMISSION_JWE_TYP,
      kid: enc.encryptionKey.kid,
      [JWE_HEADER.evidenceDigest]: enc.evidenceDigest,
      ...header,
    })
    .encrypt(key);
}

describe('enclave ingest', () => {
  it('accepts a submission once and computes the input commitment over proof digests', async () => {
    const { jwe, submissionId } = await encrypt();
    const seen = new Set<string>();
    const out = await decryptSubmission(jwe, enc.decryptionKey, opts(seen));
    expect(out.inputCommitment).toBe(inputCommitment([PROOF]));
    expect(out.verified).toEqual(['signed-source']);
    expect(seen.has(submissionId)).toBe(true);
  });

  it('attack: replayed submission', async () => {
    const { jwe } = await encrypt();
    const seen = new Set<string>();
    await decryptSubmission(jwe, enc.decryptionKey, opts(seen));
    await expect(decryptSubmission(jwe, enc.decryptionKey, opts(seen))).rejects.toMatchObject({
      code: 'ERR_SUBMISSION_REPLAYED',
    });
  });

  it('attack: submission addressed to another enclave key (kid)', async () => {
    const { jwe } = await encrypt();
    await expect(
      decryptSubmission(jwe, enc.decryptionKey, opts(undefined, { expectedKid: 'another-key' })),
    ).rejects.toMatchObject({ code: 'ERR_SUBMISSION_MISADDRESSED' });
  });

  it('attack: submission made after checking other evidence', async () => {
    const { jwe } = await encrypt();
    await expect(
      decryptSubmission(jwe, enc.decryptionKey, opts(undefined, { evidenceDigest: `0x${'11'.repeat(32)}` })),
    ).rejects.toMatchObject({ code: 'ERR_SUBMISSION_MISADDRESSED' });
  });

  it('attack: encrypted to another enclave key under our kid does not decrypt', async () => {
    const other = await fakeEnclave();
    const { jwe } = await encrypt();
    await expect(decryptSubmission(jwe, other.decryptionKey, opts())).rejects.toMatchObject({
      code: 'ERR_SUBMISSION_MALFORMED',
    });
  });

  it('attack: header and plaintext disagree on the evidence digest', async () => {
    const { submission } = await encrypt();
    const id = `0x${'42'.repeat(32)}`;
    const jwe = await handmade(
      { [JWE_HEADER.id]: id },
      { ...submission, submissionId: id, evidenceDigest: `0x${'22'.repeat(32)}` },
    );
    await expect(decryptSubmission(jwe, enc.decryptionKey, opts())).rejects.toMatchObject({
      code: 'ERR_SUBMISSION_MISADDRESSED',
    });
  });

  it('malformed: not a JWE, tampered ciphertext, wrong typ, bad plaintext, unknown field', async () => {
    const { jwe, submission } = await encrypt();
    const parts = jwe.split('.');
    parts[3] = parts[3]!.startsWith('A') ? `B${parts[3]!.slice(1)}` : `A${parts[3]!.slice(1)}`;
    const id = `0x${'43'.repeat(32)}`;
    const cases: unknown[] = [
      42,
      'not.a.jwe',
      parts.join('.'),
      await handmade({ [JWE_HEADER.id]: id, typ: DELEGATION_JWE_TYP }, { ...submission, submissionId: id }),
      await handmade({ [JWE_HEADER.id]: id }, 'plain string'),
      await handmade({ [JWE_HEADER.id]: id }, { ...submission, submissionId: id, extra: 1 }),
      await handmade({ [JWE_HEADER.id]: 'nope' }, { ...submission, submissionId: id }),
      await handmade({ [JWE_HEADER.id]: id, enc: 'A128GCM' }, { ...submission, submissionId: id }).catch(
        () => 'x.y.z.w.v',
      ),
    ];
    for (const c of cases) {
      await expect(decryptSubmission(c, enc.decryptionKey, opts())).rejects.toMatchObject({
        code: 'ERR_SUBMISSION_MALFORMED',
      });
    }
  });

  it('refuses an oversized submission before parsing it', async () => {
    const { jwe } = await encrypt();
    await expect(decryptSubmission(jwe, enc.decryptionKey, opts(undefined, { maxBytes: 100 }))).rejects.toMatchObject({
      code: 'ERR_SUBMISSION_TOO_LARGE',
    });
  });

  it('stores nothing for a submission whose provenance fails, and it can be fixed and resent under a new id', async () => {
    const { jwe } = await encrypt();
    const seen = new Set<string>();
    const verifyProvenance = async () => {
      throw new PropsError('ERR_PROVENANCE_STALE');
    };
    await expect(decryptSubmission(jwe, enc.decryptionKey, opts(seen, { verifyProvenance }))).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_STALE',
    });
    expect(seen.size).toBe(0);
  });
});

describe('delegated attested fetch', () => {
  const TOKEN = 'tok_delegated_Hh3K9q2Lw';
  let portal: BankPortal;
  /** Statement requests the bank answered with the token (counted at the bank). */
  let bankRequests = 0;
  beforeAll(async () => {
    portal = await startBankPortal({
      statementFor: (id) => {
        bankRequests += 1;
        return sampleStatement(id);
      },
      accounts: [{ accountId: 'acc-9', token: TOKEN }],
    });
  });
  afterAll(() => portal.close());

  it('the token reaches the enclave only inside a JWE; the enclave fetches once and refuses a replay', async () => {
    const { jwe } = await delegateFetch({ url: portal.statementUrl('acc-9'), token: TOKEN }, checked, deps);
    expect(jwe).not.toContain(TOKEN);
    const fetcher = createAttestedFetcher(
      {
        allowedHosts: [portal.host],
        extraCaPems: [portal.caPem],
        useSystemRoots: false,
        maxBodyBytes: 1 << 20,
        timeoutMs: 5000,
      },
      { now: () => NOW, signer: enc.signer, route: portal.route },
    );
    const seen = new Set<string>();
    const o = { expectedKid: enc.encryptionKey.kid, evidenceDigest: enc.evidenceDigest, seenDelegationIds: seen };
    const out = await fetchDelegated(jwe, enc.decryptionKey, fetcher, o);
    expect(out.record.status).toBe(200);
    expect(JSON.stringify(out.record) + out.proof.jws).not.toContain(TOKEN);
    await expect(fetchDelegated(jwe, enc.decryptionKey, fetcher, o)).rejects.toMatchObject({
      code: 'ERR_SUBMISSION_REPLAYED',
    });
  });

  it('token reuse: concurrent replays of one delegation make one bank request', async () => {
    const { jwe } = await delegateFetch({ url: portal.statementUrl('acc-9'), token: TOKEN }, checked, deps);
    const fetcher = createAttestedFetcher(
      {
        allowedHosts: [portal.host],
        extraCaPems: [portal.caPem],
        useSystemRoots: false,
        maxBodyBytes: 1 << 20,
        timeoutMs: 5000,
      },
      { now: () => NOW, signer: enc.signer, route: portal.route },
    );
    const o = {
      expectedKid: enc.encryptionKey.kid,
      evidenceDigest: enc.evidenceDigest,
      seenDelegationIds: new Set<string>(),
    };
    const before = bankRequests;
    // Five copies arrive together: all pass the pre-decryption replay check before any fetch could finish.
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map(() => fetchDelegated(jwe, enc.decryptionKey, fetcher, o)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ERR_SUBMISSION_REPLAYED' });
    expect(bankRequests - before).toBe(1);
  });

  it('token reuse: a delegation whose fetch failed stays used, so a replay cannot make a second request', async () => {
    const { jwe } = await delegateFetch({ url: portal.statementUrl('acc-9'), token: TOKEN }, checked, deps);
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new PropsError('ERR_FETCH_FAILED', { detail: 'ECONNRESET' });
    };
    const o = {
      expectedKid: enc.encryptionKey.kid,
      evidenceDigest: enc.evidenceDigest,
      seenDelegationIds: new Set<string>(),
    };
    await expect(fetchDelegated(jwe, enc.decryptionKey, failing, o)).rejects.toMatchObject({
      code: 'ERR_FETCH_FAILED',
    });
    await expect(fetchDelegated(jwe, enc.decryptionKey, failing, o)).rejects.toMatchObject({
      code: 'ERR_SUBMISSION_REPLAYED',
    });
    expect(calls).toBe(1);
  });
});

describe("enclave ingest: the caller's own acceptance checks", () => {
  it('a submission the caller refuses leaves no id behind; one it accepts is remembered', async () => {
    const { jwe } = await encrypt();
    const seen = new Set<string>();
    const refuse = () => {
      throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'caller' });
    };
    await expect(decryptSubmission(jwe, enc.decryptionKey, opts(seen, { accept: refuse }))).rejects.toMatchObject({
      code: 'ERR_SUBMISSION_MALFORMED',
      detail: 'caller',
    });
    expect(seen.size).toBe(0);
    await expect(decryptSubmission(jwe, enc.decryptionKey, opts(seen, { accept: refuse }))).rejects.toMatchObject({
      code: 'ERR_SUBMISSION_MALFORMED',
      detail: 'caller',
    });
    await decryptSubmission(jwe, enc.decryptionKey, opts(seen, { accept: () => {} }));
    expect(seen.size).toBe(1);
    await expect(decryptSubmission(jwe, enc.decryptionKey, opts(seen))).rejects.toMatchObject({
      code: 'ERR_SUBMISSION_REPLAYED',
    });
  });
});
