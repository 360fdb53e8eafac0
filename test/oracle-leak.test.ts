// Records and bearer tokens never appear in the clear outside the enclave boundary: not in thrown errors (message,
// detail, cause chain, JSON form), not in anything logged, not in what the host stores for a submission.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canonicalJson, type ProvenanceProof } from '../protocol/index.ts';
import { startBankPortal, staticRoute, type BankPortal } from '../sim/bank/portal.ts';
import { sampleStatement } from '../sim/bank/sample.ts';
import { fakeEnclave, type FakeEnclave } from './helpers/fake-enclave.ts';
import {
  checkEnclave,
  delegateFetch,
  encryptSubmission,
  fetchSignedStatement,
  generateOwnerKey,
} from '../oracle/index.ts';
import { createAttestedFetcher, fetchDelegated } from '../enclave/fetcher.ts';
import { decryptSubmission } from '../enclave/ingest.ts';

const TOKEN = 'tok_secret_ZZ9plural_Z_alpha';
const NOW = new Date('2026-11-22T04:00:00.000Z');
const SECRETS = [TOKEN, 'ACME PAYROLL', 'RENT FLAT 4B', canonicalJson(sampleStatement('acc-1').transactions[0])];

let portal: BankPortal;
let enc: FakeEnclave;
const logged: string[] = [];

function everything(e: unknown): string {
  const out: string[] = [];
  for (let cur: unknown = e, d = 0; cur && d < 16; d++) {
    const err = cur as Error & { detail?: unknown };
    out.push(String(err.message), String(err.stack), String(err.detail), JSON.stringify(err));
    cur = (cur as { cause?: unknown }).cause;
  }
  return out.join('\n');
}

beforeAll(async () => {
  for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void logged.push(a.map(String).join(' ')));
  }
  const w = (chunk: unknown) => (logged.push(String(chunk)), true);
  vi.spyOn(process.stdout, 'write').mockImplementation(w as typeof process.stdout.write);
  vi.spyOn(process.stderr, 'write').mockImplementation(w as typeof process.stderr.write);
  portal = await startBankPortal({ statementFor: sampleStatement, accounts: [{ accountId: 'acc-1', token: TOKEN }] });
  enc = await fakeEnclave();
});
afterAll(async () => {
  vi.restoreAllMocks();
  await portal.close();
});

describe('no records or tokens outside the enclave', () => {
  it('errors and logs of every failing path hold no token or record content', async () => {
    const errors: unknown[] = [];
    const catchIt = (p: Promise<unknown>) =>
      p.then(
        () => errors.push(new Error('unexpected success')),
        (e: unknown) => errors.push(e),
      );
    const policy = {
      allowedHosts: [portal.host],
      extraCaPems: [portal.caPem],
      useSystemRoots: false,
      maxBodyBytes: 64,
      timeoutMs: 5000,
    };
    const deps = { now: () => NOW, signer: enc.signer, route: portal.route };
    const url = portal.statementUrl('acc-1');
    await catchIt(createAttestedFetcher(policy, deps)({ url, token: TOKEN })); // too large
    await catchIt(
      createAttestedFetcher(
        { ...policy, maxBodyBytes: 1 << 20 },
        { ...deps, route: staticRoute({}) },
      )({ url, token: TOKEN }),
    );
    await catchIt(createAttestedFetcher({ ...policy, allowedHosts: ['x.test'] }, deps)({ url, token: TOKEN }));
    await catchIt(fetchSignedStatement({ url, token: `${TOKEN}x`, caPems: [portal.caPem], route: portal.route })); // 401
    await catchIt(fetchSignedStatement({ url, token: TOKEN, caPems: [], route: portal.route })); // untrusted CA

    const checked = await checkEnclave({
      evidence: enc.evidence,
      manifest: enc.manifest,
      policy: enc.policy,
      now: NOW,
      verifyEvidence: enc.verifyOk,
    });
    const { proof } = await fetchSignedStatement({ url, token: TOKEN, caPems: [portal.caPem], route: portal.route });
    const owner = (await generateOwnerKey()).key;
    const { jwe } = await encryptSubmission({ proofs: [proof], owner: owner.publicJwk }, checked, { now: () => NOW });
    const seen = new Set<string>();
    const base = {
      expectedKid: enc.encryptionKey.kid,
      evidenceDigest: enc.evidenceDigest,
      seenSubmissionIds: seen,
      now: () => NOW,
    };
    // The provenance verifier fails: its own error passes through, and ingest adds nothing of the submission to it.
    await catchIt(
      decryptSubmission(jwe, enc.decryptionKey, {
        ...base,
        verifyProvenance: async () => Promise.reject(new Error('bad')),
      }),
    );
    await catchIt(
      decryptSubmission(jwe, enc.decryptionKey, { ...base, expectedKid: 'other', verifyProvenance: async () => null }),
    );
    const { jwe: djwe } = await delegateFetch({ url, token: TOKEN }, checked, { now: () => NOW });
    const usedDelegations = new Set<string>();
    await catchIt(
      fetchDelegated(djwe, enc.decryptionKey, createAttestedFetcher(policy, deps), {
        ...base,
        seenDelegationIds: usedDelegations,
      }),
    );

    expect(errors).toHaveLength(8);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'ERR_FETCH_RESPONSE_TOO_LARGE',
      'ERR_FETCH_FAILED',
      'ERR_PROVENANCE_HOST_NOT_ALLOWED',
      'ERR_FETCH_SOURCE_REFUSED',
      'ERR_PROVENANCE_CERT_CHAIN_INVALID',
      undefined, // the injected verifier's own error passes through unchanged
      'ERR_SUBMISSION_MISADDRESSED',
      'ERR_FETCH_RESPONSE_TOO_LARGE',
    ]);
    const text = errors.map(everything).join('\n') + logged.join('\n');
    for (const s of SECRETS) expect(text).not.toContain(s);
    // What the host could store for a submission: the JWE and ids only.
    const stored = jwe + djwe + [...seen, ...usedDelegations].join(',');
    // Also each JWE segment decoded: an "encryption" that only base64url-encoded would pass a search of the text.
    const decoded = [jwe, djwe]
      .flatMap((j) => j.split('.').map((s) => Buffer.from(s, 'base64url').toString('latin1')))
      .join('\n');
    for (const s of SECRETS) {
      expect(stored).not.toContain(s);
      expect(decoded).not.toContain(s);
    }
    expect(seen.size).toBe(0); // nothing remembered for rejected inputs
    // A delegation is used up once opened, before its fetch (one delegation, one request with its token): its id only.
    expect(usedDelegations.size).toBe(1);
    const p: ProvenanceProof = proof;
    expect(p.kind).toBe('signed-source');
  });
});
