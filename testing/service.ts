// Test kit for the scoring service, shared by tests and bench: a data owner's plain submission and consent
// (plain-ingest.ts), a deterministic TEST-DOUBLE scorer standing in for the ONNX model, an in-process service on a temp
// SQLite file, and the oracle's own formats against a running service.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncrypt, CompactSign, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { createService, type CreateServiceOptions } from '../enclave/service.ts';
import { openSqliteStore } from '../enclave/store/index.ts';
import type { Scorer } from '../enclave/api/index.ts';
import type { Enclave } from '../enclave/index.ts';
import type { ResultOutput, Statement } from '../protocol/index.ts';
import { NOW, seededRandom, simEnclave } from './enclave.ts';
import { plainIngest, plainVerifyConsent } from './plain-ingest.ts';

export const ADMIN = 'admin-token-for-tests-0001';

/** TEST DOUBLE for the model: score = 300 + number of transactions × 50, capped. Deterministic. */
export const testScorer: Scorer = {
  modelHash: `0x${'ab'.repeat(32)}`,
  executionProvider: 'none',
  async score(statements: Statement[], threshold: number): Promise<ResultOutput[]> {
    return statements.map((s) => {
      const score = Math.min(1000, 300 + s.transactions.length * 50);
      return { score, decision: score >= threshold ? 'approve' : 'decline', threshold, reasonCodes: ['TEST_DOUBLE'] };
    });
  },
};

export const SENTINEL = {
  account: 'SENTINELACCT9931',
  description: 'SENTINEL-DESC-7731',
  subject: 'sentinel-borrower-4417@bank.example',
};

export function sentinelStatement(): Statement {
  return {
    version: 1,
    accountId: SENTINEL.account,
    currency: 'EUR',
    from: '2026-01-01',
    to: '2026-03-31',
    openingBalance: 123_456,
    transactions: [
      {
        date: '2026-01-02',
        amount: 987_654,
        category: 'salary',
        description: SENTINEL.description,
        balanceAfter: 1_111_110,
      },
      {
        date: '2026-01-05',
        amount: -55_555,
        category: 'rent',
        description: SENTINEL.description,
        balanceAfter: 1_055_555,
      },
    ],
  };
}

export type Owner = { privateKey: CryptoKey; jwk: JWK };
export async function newOwner(): Promise<Owner> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk: { ...jwk, kid: 'owner', alg: 'ES256', use: 'sig' } };
}

export async function makeSubmission(
  enclave: Enclave,
  owner: Owner,
  opts: { subject?: string; statement?: Statement; payload?: unknown } = {},
): Promise<string> {
  const payload = opts.payload ?? {
    v: 1,
    statement: opts.statement ?? sentinelStatement(),
    provenance: { type: 'signed-source', subject: opts.subject ?? SENTINEL.subject, proof: null },
    owner: owner.jwk,
  };
  const key = await importJWK({ ...enclave.keys.public.encryption, alg: 'ECDH-ES' } as JWK, 'ECDH-ES');
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM' })
    .encrypt(key);
}

export async function signConsent(
  owner: Owner,
  c: { submissionId: string; lender: string; purpose?: string; expiresAt?: number; maxUses?: number },
): Promise<string> {
  const body = {
    v: 1,
    typ: 'props-consent',
    submissionId: c.submissionId,
    lender: c.lender,
    purpose: c.purpose ?? 'credit-scoring',
    expiresAt: c.expiresAt ?? Math.floor(NOW.getTime() / 1000) + 3600,
    maxUses: c.maxUses ?? 5,
    iat: Math.floor(NOW.getTime() / 1000),
  };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(body)))
    .setProtectedHeader({ alg: 'ES256', typ: 'props-consent+jws' })
    .sign(owner.privateKey);
}

export async function testService(opts: Partial<CreateServiceOptions> & { seed?: string } = {}) {
  const enclave = opts.enclave ?? (await simEnclave({ seed: opts.seed ?? 'service' }));
  const dir = mkdtempSync(join(tmpdir(), 'props-svc-'));
  const dbFile = join(dir, 'props.db');
  const store = opts.store ?? openSqliteStore(dbFile);
  const logLines: string[] = [];
  let now = NOW;
  const svc = await createService({
    scorer: testScorer,
    // The service tests' own submission format (a statement + an unverified provenance claim); `props serve` and the
    // simulation inject the oracle's boundary instead (enclave/api/oracle-adapters.ts).
    ingest: plainIngest(enclave),
    verifyConsent: plainVerifyConsent,
    clock: () => now,
    random: seededRandom(`${opts.seed ?? 'service'}/ids`),
    logger: (e) => logLines.push(JSON.stringify(e)),
    ...opts,
    enclave,
    store,
    adminToken: ADMIN,
  });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await svc.app.request(path, init);
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, type: res.headers.get('content-type') ?? '' };
  };
  const newLender = async (name = 'lender', ratePerSecond = 1000) => {
    const r = await call('POST', '/v1/admin/lenders', { name, ratePerSecond }, { authorization: `Bearer ${ADMIN}` });
    return r.json as { lenderId: string; apiKey: string };
  };
  return { ...svc, enclave, store, dbFile, logLines, call, newLender, setNow: (d: Date) => (now = d) };
}

// ---------------------------------------------------------------- the oracle's wire formats against a running service
/** A provenance policy trusting one bank key for source-signed statements from bank.props.test. */
export async function bankTrust(): Promise<{
  key: Awaited<ReturnType<typeof import('./provenance.ts').makeKey>>;
  policy: unknown;
}> {
  const { makeKey } = await import('./provenance.ts');
  const key = await makeKey('bank-test-1');
  const policy = {
    version: 2,
    id: 'service-test',
    maxAgeSeconds: 3600,
    clockSkewSeconds: 60,
    maxTranscriptBytes: 1 << 20,
    tlsn: { hosts: [], notaryKeys: [] },
    reclaim: { hosts: [], witnesses: [] },
    signedSource: {
      hosts: ['bank.props.test'],
      algorithms: ['ES256'],
      jwks: { keys: [key.jwk] },
      kids: [{ kid: key.jwk.kid, issuers: ['bank.props.test'] }],
    },
    attestedFetch: { hosts: [], algorithms: ['ES256'], enclaveKeys: [], statuses: [200] },
  };
  return { key, policy };
}

/** As a data owner does it: check the served enclave, encrypt a bank-signed statement to it, submit, grant consent. */
export async function submitViaOracle(
  url: string,
  bank: Awaited<ReturnType<typeof bankTrust>>['key'],
  o: { lender: string; maxUses: number; statement?: Statement },
): Promise<{
  submissionId: string;
  consentId: string;
  consentStatus: number;
  submitStatus: number;
  inputCommitment: `0x${string}`;
  owner: Awaited<ReturnType<typeof import('../oracle/index.ts').generateOwnerKey>>['key'];
}> {
  const { makeSignedSource } = await import('./provenance.ts');
  const { checkEnclave, encryptSubmission, generateOwnerKey, grantConsent } = await import('../oracle/index.ts');
  const { loadDefaultPolicy, verifyEvidence } = await import('../verifier/index.ts');
  const evidence = await (await fetch(`${url}/v1/attestation/evidence`)).json();
  const manifest = await (await fetch(`${url}/v1/attestation/manifest`)).json();
  const policy = loadDefaultPolicy();
  policy.evidence.allowSimulated = true;
  const now = () => new Date();
  const checked = await checkEnclave({
    evidence,
    manifest,
    policy,
    now: now(),
    verifyEvidence: (e, opts) => verifyEvidence(e, opts),
  });
  const t = Math.floor(Date.now() / 1000);
  const jws = await makeSignedSource(bank, {
    iss: 'bank.props.test',
    sub: 'acc_1',
    iat: t - 60,
    exp: t + 3600,
    statement: o.statement ?? sentinelStatement(),
  });
  const owner = (await generateOwnerKey()).key;
  const { jwe } = await encryptSubmission(
    { proofs: [{ version: 1, kind: 'signed-source', jws }], owner: owner.publicJwk },
    checked,
    { now },
  );
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const sres = await post('/v1/submissions', { jwe });
  const sub = (await sres.json()) as { submissionId: string; inputCommitment: `0x${string}` };
  const consent = await grantConsent(
    {
      lender: o.lender,
      purpose: 'credit-scoring',
      expiry: new Date(Date.now() + 86400_000),
      maxUses: o.maxUses,
      inputCommitment: sub.inputCommitment,
    },
    owner,
    { now },
  );
  const cres = await post('/v1/consents', { consent: consent.jws });
  const c = (await cres.json()) as { consentId: string };
  return {
    submissionId: sub.submissionId,
    consentId: c.consentId,
    consentStatus: cres.status,
    submitStatus: sres.status,
    inputCommitment: sub.inputCommitment,
    owner,
  };
}
