// The scoring API, route by route: each success and each coded failure, the full submission → consent → score →
// verify round trip (result + log inclusion + signed head), idempotency, caps, retention, and the plaintext scan.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { p256 } from '@noble/curves/nist.js';
import {
  chainKeyId,
  checkpointDigest,
  consentRef,
  fromHex,
  PropsError,
  propsDomain,
  type Hex,
} from '../../protocol/index.ts';
import {
  resultBodyOfJws,
  resultLeafHash,
  verifyBundle,
  verifyLogConsistency,
  verifyLogInclusion,
  verifyResult,
  verifySignedTreeHead,
} from '../../verifier/index.ts';
import { hex32, NOW, simEnclave, simPolicy } from '../../testing/enclave.ts';
import { ADMIN, makeSubmission, newOwner, SENTINEL, signConsent, testService } from '../../testing/service.ts';
import { attestationJson } from './jobs.ts';
import { plainIngest } from '../../testing/plain-ingest.ts';

const nowS = Math.floor(NOW.getTime() / 1000);
let n = 0;
const nonce = () => `0x${(++n).toString(16).padStart(64, '0')}`;
const idem = () => ({ 'idempotency-key': `idem-key-${++n}` });

/** The lender's check of a scoring answer: its attestation, for its own request and nonce. */
const verifyAnswer = (
  w: Awaited<ReturnType<typeof testService>>,
  json: { attestation: unknown; requestId: string; nonce: string },
  policy = simPolicy(),
) =>
  verifyResult(json.attestation, {
    evidence: w.enclave.evidence,
    evidenceDigest: w.enclave.evidenceDigest,
    manifest: w.enclave.manifest,
    policy,
    now: NOW,
    expected: { requestId: json.requestId, nonce: json.nonce },
  });

async function world(opts: Parameters<typeof testService>[0] = {}) {
  const s = await testService(opts);
  const owner = await newOwner();
  const lender = await s.newLender('bank-a');
  const auth = { authorization: `Bearer ${lender.apiKey}` };
  const jwe = await makeSubmission(s.enclave, owner);
  const sub = await s.call('POST', '/v1/submissions', { jwe });
  expect(sub.status).toBe(201);
  const consentJws = await signConsent(owner, { submissionId: sub.json.submissionId, lender: lender.lenderId });
  const con = await s.call('POST', '/v1/consents', { consent: consentJws });
  expect(con.status).toBe(201);
  const score = (body: Record<string, unknown> = {}, headers: Record<string, string> = { ...auth, ...idem() }) =>
    s.call('POST', '/v1/jobs', { consentId: con.json.consentId, nonce: nonce(), ...body }, headers);
  return {
    ...s,
    owner,
    lender,
    auth,
    jwe,
    consentJws,
    submissionId: sub.json.submissionId as string,
    consentId: con.json.consentId as string,
    score,
  };
}

describe('attestation routes', () => {
  it('serves evidence, manifest, JWKS (also at /.well-known), healthz, metrics, openapi and docs', async () => {
    const s = await testService();
    expect((await s.call('GET', '/v1/attestation/evidence')).json).toEqual(s.enclave.evidence);
    expect((await s.call('GET', '/v1/attestation/manifest')).json).toEqual(s.enclave.manifest);
    expect((await s.call('GET', '/v1/attestation/jwks')).json).toEqual(s.enclave.jwks);
    expect((await s.call('GET', '/.well-known/jwks.json')).json).toEqual(s.enclave.jwks);
    expect((await s.call('GET', '/healthz')).json).toEqual({ ok: true, logSize: 0 });
    expect((await s.call('GET', '/metrics')).json).toContain('props_log_size 0');
    const doc = (await s.call('GET', '/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    for (const p of [
      '/v1/submissions',
      '/v1/consents',
      '/v1/jobs',
      '/v1/jobs/{id}',
      '/v1/log/head',
      '/v1/log/inclusion',
      '/v1/log/consistency',
      '/v1/log/checkpoint',
      '/v1/admin/lenders',
      '/.well-known/jwks.json',
    ]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect((await s.call('GET', '/docs')).json).toContain('/openapi.json');
  });

  it('serves an OpenAPI document that a validator accepts', async () => {
    const s = await testService();
    const doc = (await s.call('GET', '/openapi.json')).json;
    const SwaggerParser = (await import('@apidevtools/swagger-parser')).default;
    const api = (await SwaggerParser.validate(structuredClone(doc))) as { paths: Record<string, unknown> };
    expect(Object.keys(api.paths).length).toBeGreaterThanOrEqual(15);
  });

  it('answers an unknown route with ERR_HTTP_NOT_FOUND as problem+json', async () => {
    const s = await testService();
    const r = await s.call('GET', '/v1/nope');
    expect(r).toMatchObject({ status: 404, json: { code: 'ERR_HTTP_NOT_FOUND', status: 404 } });
    expect(r.type).toContain('application/problem+json');
  });
});

describe('audit bundle log proofs', () => {
  async function bundleOf(seed?: string) {
    const w = await world(seed ? { seed } : {});
    await w.score();
    const r = await w.score();
    const b = await w.call('GET', `/v1/jobs/${r.json.jobId}/bundle`, undefined, w.auth);
    expect(b.status).toBe(200);
    return { w, bundle: b.json };
  }
  const codesOf = async (bundle: unknown) => {
    const rep = await verifyBundle(bundle, { policy: simPolicy(), now: NOW });
    return rep.checks.filter((c) => !c.ok).map((c) => `${c.id}:${c.code}`);
  };

  it('an intact bundle passes its log proof check', async () => {
    const { bundle } = await bundleOf();
    const rep = await verifyBundle(bundle, { policy: simPolicy(), now: NOW });
    expect(rep.ok).toBe(true);
    expect(rep.checks.find((c) => c.id === 'logProofs[0]')).toMatchObject({ ok: true });
  });

  it('log proof with a forged sibling hash: refused (ERR_LOG_INCLUSION_INVALID)', async () => {
    const { bundle } = await bundleOf();
    bundle.logProofs[0].proof[0] = hex32('ab');
    expect(await codesOf(bundle)).toEqual(['logProofs[0]:ERR_LOG_INCLUSION_INVALID']);
  });

  it('log proof moved to another leaf index: refused (ERR_LOG_INCLUSION_INVALID)', async () => {
    const { bundle } = await bundleOf();
    bundle.logProofs[0].index = 0;
    expect(await codesOf(bundle)).toEqual(['logProofs[0]:ERR_LOG_INCLUSION_INVALID']);
  });

  it('log proof for another result’s leaf: refused (ERR_LOG_INCLUSION_INVALID)', async () => {
    const { bundle } = await bundleOf();
    bundle.logProofs[0].leafHash = hex32('cd');
    expect(await codesOf(bundle)).toEqual(['logProofs[0]:ERR_LOG_INCLUSION_INVALID']);
  });

  it('signed tree head with a swapped root: refused (ERR_LOG_HEAD_INVALID)', async () => {
    const { bundle } = await bundleOf();
    bundle.logProofs[0].signedTreeHead.rootHash = hex32('ef');
    expect(await codesOf(bundle)).toEqual(['logProofs[0]:ERR_LOG_HEAD_INVALID']);
  });

  it('signed tree head from another enclave: refused (ERR_LOG_HEAD_INVALID)', async () => {
    const { bundle } = await bundleOf();
    const other = await bundleOf('another-enclave');
    bundle.logProofs[0].signedTreeHead = other.bundle.logProofs[0].signedTreeHead;
    expect(await codesOf(bundle)).toEqual(['logProofs[0]:ERR_LOG_HEAD_INVALID']);
  });

  it('tree size claimed larger than the signed head: refused (ERR_LOG_INCLUSION_INVALID)', async () => {
    const { bundle } = await bundleOf();
    bundle.logProofs[0].treeSize += 1;
    expect(await codesOf(bundle)).toEqual(['logProofs[0]:ERR_LOG_INCLUSION_INVALID']);
  });

  it('log proof naming a request that is not in the bundle, or with an unknown field: refused (ERR_BUNDLE_MALFORMED)', async () => {
    const { bundle } = await bundleOf();
    const a = structuredClone(bundle);
    a.logProofs[0].requestId = hex32('99');
    expect(await codesOf(a)).toEqual(['logProofs[0]:ERR_BUNDLE_MALFORMED']);
    const b = structuredClone(bundle);
    b.logProofs[0].extra = 1;
    expect(await codesOf(b)).toEqual(['logProofs[0]:ERR_BUNDLE_MALFORMED']);
  });
});

describe('batched result signing (resultSigning: batch)', () => {
  it('a stored batched result gets its head back as its first member; a single result is served as stored', () => {
    expect(JSON.parse(attestationJson('{"version":1,"index":2}', 'a.b.c'))).toEqual({
      head: 'a.b.c',
      version: 1,
      index: 2,
    });
    expect(attestationJson('{"version":1}', 'a.b.c')).toBe('{"head":"a.b.c","version":1}');
    expect(JSON.parse(attestationJson('{}', 'a.b.c'))).toEqual({ head: 'a.b.c' });
    expect(attestationJson('{"jws":"x"}', null)).toBe('{"jws":"x"}');
  });

  it('scores concurrent jobs under one signed batch head; each result verifies, is in the log, and its bundle verifies', async () => {
    const w = await world({ resultSigning: 'batch' });
    const answers = await Promise.all([0, 1, 2, 3, 4].map(() => w.score()));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    const policy = simPolicy();
    const heads = new Set<string>();
    for (const a of answers) {
      expect(a.json.attestation.kind).toBe('props-batched-result');
      expect(a.json.attestation.eip712).toBeUndefined();
      heads.add(a.json.attestation.head);
      const rep = await verifyAnswer(w, a.json, policy);
      expect(rep.checks.filter((c) => !c.ok)).toEqual([]);
      // Its batch leaf is its transparency-log leaf (what the escrow's releaseWithProof recomputes).
      const inc = (await w.call('GET', `/v1/log/inclusion?index=${a.json.logIndex}&treeSize=5`)).json;
      expect(inc.leafHash).toBe(`0x${Buffer.from(resultLeafHash(a.json.attestation.body)).toString('hex')}`);
    }
    // Requests arriving together are signed together: fewer heads than results.
    expect(heads.size).toBeLessThan(answers.length);
    // Each head is stored once, not in each of its results, and a result read back from the store is the one answered.
    const sqlite = (w.store as unknown as { sqlite: import('better-sqlite3').Database }).sqlite;
    expect(
      sqlite
        .prepare('SELECT head FROM result_heads')
        .all()
        .map((r) => (r as { head: string }).head)
        .sort(),
    ).toEqual([...heads].sort());
    for (const row of sqlite.prepare('SELECT attestation FROM results').all() as Array<{ attestation: string }>)
      expect(JSON.parse(row.attestation).head).toBeUndefined();
    for (const a of answers)
      expect((await w.call('GET', `/v1/jobs/${a.json.jobId}`, undefined, w.auth)).json).toEqual(a.json);
    const b = await w.call('GET', `/v1/jobs/${answers[2]!.json.jobId}/bundle`, undefined, w.auth);
    const report = await verifyBundle(b.json, { policy, now: NOW });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['results[0].result.batch', 'logProofs[0]']));
  });

  it('a batched result whose score was raised in a bundle: refused (ERR_RESULT_BATCH_PROOF_INVALID)', async () => {
    const w = await world({ resultSigning: 'batch' });
    const a = await w.score();
    const b = (await w.call('GET', `/v1/jobs/${a.json.jobId}/bundle`, undefined, w.auth)).json;
    b.results[0].attestation.body.output.score = 1000;
    const report = await verifyBundle(b, { policy: simPolicy(), now: NOW });
    expect(report.checks.filter((c) => !c.ok).map((c) => c.code)).toContain('ERR_RESULT_BATCH_PROOF_INVALID');
    expect(report.ok).toBe(false);
  });
});

describe('round trip', () => {
  it('submission → consent → score → the lender verifies the result, its log inclusion and the signed head', async () => {
    const w = await world();
    const r = await w.score({ threshold: 350 });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ state: 'done', logIndex: 0 });
    const policy = simPolicy();
    const rep = await verifyAnswer(w, r.json, policy);
    expect(rep.checks.filter((c) => !c.ok)).toEqual([]);
    expect(rep.body?.output).toEqual({ score: 400, decision: 'approve', threshold: 350, reasonCodes: ['TEST_DOUBLE'] });
    // Named by the consent's consentRef (the tagged hash of its exact JWS), not by the id the service files it under.
    expect(rep.body?.consentRef).toBe(consentRef(w.consentJws));
    expect(rep.body?.consentRef).not.toBe(w.consentId);

    const head = (await w.call('GET', '/v1/log/head')).json;
    const sth = await verifySignedTreeHead(head, w.enclave.evidence.keys);
    expect(sth.treeSize).toBe(1);
    const inc = (await w.call('GET', `/v1/log/inclusion?index=0&treeSize=1`)).json;
    const leaf = resultLeafHash(resultBodyOfJws(r.json.attestation.jws));
    expect(inc.leafHash).toBe(`0x${Buffer.from(leaf).toString('hex')}`);
    expect(() =>
      verifyLogInclusion({
        leafHash: inc.leafHash,
        index: 0,
        treeSize: 1,
        proof: inc.proof,
        rootHash: sth.rootHash as Hex,
      }),
    ).not.toThrow();
    // GET /v1/jobs/{id} returns the same result to its lender
    const g = await w.call('GET', `/v1/jobs/${r.json.jobId}`, undefined, w.auth);
    expect(g).toMatchObject({ status: 200, json: { state: 'done', attestation: r.json.attestation } });
    // The audit bundle is what `props verify` takes: it verifies, and its log proof checks against its signed head.
    const b = await w.call('GET', `/v1/jobs/${r.json.jobId}/bundle`, undefined, w.auth);
    expect(b.status).toBe(200);
    const report = await verifyBundle(b.json, { policy, now: NOW });
    expect(report.ok).toBe(true);
    const lp = b.json.logProofs[0];
    const bh = await verifySignedTreeHead(lp.signedTreeHead, w.enclave.evidence.keys);
    expect(() =>
      verifyLogInclusion({
        leafHash: lp.leafHash,
        index: lp.index,
        treeSize: lp.treeSize,
        proof: lp.proof,
        rootHash: bh.rootHash as Hex,
      }),
    ).not.toThrow();
    const other = await w.newLender('bank-z');
    expect(
      (await w.call('GET', `/v1/jobs/${r.json.jobId}/bundle`, undefined, { authorization: `Bearer ${other.apiKey}` }))
        .json.code,
    ).toBe('ERR_JOB_NOT_FOUND');
  });

  it('grows the log consistently: heads at 1 and 3 leaves are proven consistent', async () => {
    const w = await world();
    await w.score();
    const h1 = await verifySignedTreeHead((await w.call('GET', '/v1/log/head')).json, w.enclave.evidence.keys);
    await w.score();
    await w.score();
    const h3 = await verifySignedTreeHead((await w.call('GET', '/v1/log/head')).json, w.enclave.evidence.keys);
    const c = (await w.call('GET', '/v1/log/consistency?oldSize=1&newSize=3')).json;
    expect(() =>
      verifyLogConsistency({
        oldSize: 1,
        newSize: 3,
        oldRoot: h1.rootHash as Hex,
        newRoot: h3.rootHash as Hex,
        proof: c.proof,
      }),
    ).not.toThrow();
    expect(() =>
      verifyLogConsistency({
        oldSize: 1,
        newSize: 3,
        oldRoot: h3.rootHash as Hex,
        newRoot: h3.rootHash as Hex,
        proof: c.proof,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_LOG_CONSISTENCY_INVALID' }));
    expect(() =>
      verifyLogInclusion({ leafHash: hex32('00'), index: 0, treeSize: 3, proof: [], rootHash: h3.rootHash as Hex }),
    ).toThrow(expect.objectContaining({ code: 'ERR_LOG_INCLUSION_INVALID' }));
  });
});

describe('response headers', () => {
  it('clickjacking and sniffing: every answer forbids framing and MIME sniffing, errors too; API answers are not cached', async () => {
    const w = await world();
    for (const [path, status] of [
      ['/v1/attestation/manifest', 200],
      ['/healthz', 200],
      ['/v1/jobs/nope', 401],
      ['/nowhere', 404],
    ] as const) {
      const res = await w.app.request(path);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      if (path.startsWith('/v1/')) expect(res.headers.get('cache-control'), path).toBe('no-store');
    }
  });
});

describe('log routes: coded failures', () => {
  it('refuses proofs outside the tree and malformed queries', async () => {
    const w = await world();
    await w.score();
    expect((await w.call('GET', '/v1/log/inclusion?index=1&treeSize=1')).json.code).toBe('ERR_LOG_INDEX_OUT_OF_RANGE');
    expect((await w.call('GET', '/v1/log/inclusion?index=0&treeSize=9')).json.code).toBe('ERR_LOG_INDEX_OUT_OF_RANGE');
    expect((await w.call('GET', '/v1/log/consistency?oldSize=2&newSize=1')).json.code).toBe(
      'ERR_LOG_INDEX_OUT_OF_RANGE',
    );
    expect((await w.call('GET', '/v1/log/inclusion?index=x&treeSize=1')).json.code).toBe('ERR_INPUT_MALFORMED');
    // Not read as numbers: an empty value (coercion made it 0), exponent notation, padding, a sign, leading zeros.
    for (const q of [
      'index=&treeSize=',
      'index=0&treeSize=1e0',
      'index=%200&treeSize=1',
      'index=-0&treeSize=1',
      'index=00&treeSize=1',
    ]) {
      expect((await w.call('GET', `/v1/log/inclusion?${q}`)).json.code).toBe('ERR_INPUT_MALFORMED');
    }
    expect((await w.call('GET', '/v1/log/inclusion?index=0&treeSize=1&extra=1')).json.code).toBe('ERR_INPUT_MALFORMED');
  });

  it('signs the current head as a registry checkpoint (EIP-712 Checkpoint under the named domain) with the on-chain key', async () => {
    const w = await world();
    const registry = '0x00000000000000000000000000000000000000aa';
    const path = `/v1/log/checkpoint?chainId=31337&registry=${registry}`;
    // Nothing to anchor yet: the registry takes only a first head of at least one leaf.
    expect((await w.call('GET', path)).json).toMatchObject({ status: 404, code: 'ERR_LOG_INDEX_OUT_OF_RANGE' });
    await w.score();
    await w.score();
    const cp = (await w.call('GET', path)).json;
    const publicKey = w.enclave.evidence.keys.chain.publicKey as Hex;
    expect(cp).toMatchObject({
      keyId: chainKeyId(publicKey),
      publicKey,
      chainId: 31337,
      registry,
      treeSize: 2,
      root: (await w.call('GET', '/v1/log/head')).json.rootHash,
    });
    const digest = checkpointDigest(propsDomain(31337, registry), { keyId: cp.keyId, treeSize: 2n, root: cp.root });
    expect(p256.verify(fromHex(cp.signature, 64), fromHex(digest, 32), fromHex(publicKey, 65))).toBe(true);
    // Another registry's domain gets its own signature; this one's is not valid there.
    const other = (await w.call('GET', `/v1/log/checkpoint?chainId=1&registry=${registry}`)).json;
    expect(other.signature).not.toBe(cp.signature);
    for (const q of [
      `chainId=0&registry=${registry}`,
      `chainId=1e3&registry=${registry}`,
      'chainId=1&registry=0x12',
      'chainId=1',
      `chainId=1&registry=${registry}&x=1`,
    ]) {
      expect((await w.call('GET', `/v1/log/checkpoint?${q}`)).json.code).toBe('ERR_INPUT_MALFORMED');
    }
  });

  it('forged tree head: a head with a changed root or size is refused', async () => {
    const w = await world();
    await w.score();
    const head = (await w.call('GET', '/v1/log/head')).json;
    await expect(
      verifySignedTreeHead({ ...head, rootHash: hex32('11') }, w.enclave.evidence.keys),
    ).rejects.toMatchObject({ code: 'ERR_LOG_HEAD_INVALID' });
    await expect(verifySignedTreeHead({ ...head, treeSize: 7 }, w.enclave.evidence.keys)).rejects.toMatchObject({
      code: 'ERR_LOG_HEAD_INVALID',
    });
    await expect(
      verifySignedTreeHead({ ...head, chainSignature: `0x${'0'.repeat(128)}` }, w.enclave.evidence.keys),
    ).rejects.toMatchObject({ code: 'ERR_LOG_HEAD_INVALID' });
  });
});

describe('submissions', () => {
  it('refuses a duplicate, a ciphertext for another key, a malformed payload, unknown fields, a bad media type, bad JSON and an oversized body', async () => {
    const w = await world({ limits: { maxBodyBytes: 64 * 1024 } });
    expect((await w.call('POST', '/v1/submissions', { jwe: w.jwe })).json.code).toBe('ERR_SUBMISSION_DUPLICATE');
    const other = await testService({ seed: 'other-enclave' });
    const foreign = await makeSubmission(other.enclave, w.owner);
    expect((await w.call('POST', '/v1/submissions', { jwe: foreign })).json.code).toBe('ERR_SUBMISSION_DECRYPT_FAILED');
    expect((await w.call('POST', '/v1/submissions', { jwe: 'a.b.c.d.e' })).json.code).toBe(
      'ERR_SUBMISSION_DECRYPT_FAILED',
    );
    const bad = await makeSubmission(w.enclave, w.owner, { payload: { v: 1, statement: { nope: 1 } } });
    expect((await w.call('POST', '/v1/submissions', { jwe: bad })).json).toMatchObject({
      status: 422,
      code: 'ERR_SUBMISSION_MALFORMED',
    });
    expect((await w.call('POST', '/v1/submissions', { jwe: w.jwe, extra: true })).json.code).toBe(
      'ERR_INPUT_MALFORMED',
    );
    expect((await w.call('POST', '/v1/submissions', '{"jwe":', {})).json.code).toBe('ERR_JSON_MALFORMED');
    const media = await w.app.request('/v1/submissions', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(media.status).toBe(415);
    expect((await media.json()).code).toBe('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
    const big = await w.call('POST', '/v1/submissions', { jwe: 'x'.repeat(70 * 1024) });
    expect(big).toMatchObject({ status: 413, json: { code: 'ERR_INPUT_TOO_LARGE' } });
  });
});

describe('consents', () => {
  it('refuses a consent signed by someone else, for an unknown submission, expired, with a disallowed purpose, twice, or malformed', async () => {
    const w = await world();
    const mallory = await newOwner();
    const forged = await signConsent(mallory, { submissionId: w.submissionId, lender: w.lender.lenderId });
    expect((await w.call('POST', '/v1/consents', { consent: forged })).json.code).toBe('ERR_CONSENT_SIGNATURE_INVALID');
    const unknown = await signConsent(w.owner, { submissionId: hex32('77'), lender: w.lender.lenderId });
    expect((await w.call('POST', '/v1/consents', { consent: unknown })).json.code).toBe('ERR_SUBMISSION_NOT_FOUND');
    const expired = await signConsent(w.owner, {
      submissionId: w.submissionId,
      lender: w.lender.lenderId,
      expiresAt: nowS - 1,
    });
    expect((await w.call('POST', '/v1/consents', { consent: expired })).json.code).toBe('ERR_CONSENT_EXPIRED');
    const purpose = await signConsent(w.owner, {
      submissionId: w.submissionId,
      lender: w.lender.lenderId,
      purpose: 'marketing',
    });
    expect((await w.call('POST', '/v1/consents', { consent: purpose })).json.code).toBe(
      'ERR_CONSENT_PURPOSE_NOT_ALLOWED',
    );
    const again = await signConsent(w.owner, { submissionId: w.submissionId, lender: w.lender.lenderId, maxUses: 2 });
    expect((await w.call('POST', '/v1/consents', { consent: again })).status).toBe(201);
    expect((await w.call('POST', '/v1/consents', { consent: again })).json.code).toBe('ERR_CONSENT_DUPLICATE');
    expect((await w.call('POST', '/v1/consents', { consent: 'not-a-jws' })).json.code).toBe('ERR_CONSENT_MALFORMED');
  });
});

describe('jobs', () => {
  it('needs lender credentials that exist', async () => {
    const w = await world();
    expect((await w.score({}, idem())).json.code).toBe('ERR_AUTH_MISSING');
    expect((await w.score({}, { authorization: 'Basic x', ...idem() })).json.code).toBe('ERR_AUTH_INVALID');
    expect((await w.score({}, { authorization: `Bearer ${'A'.repeat(43)}`, ...idem() })).json).toMatchObject({
      status: 401,
      code: 'ERR_AUTH_INVALID',
    });
  });

  it('is idempotent per key: a repeat returns the same job, a changed body under the same key conflicts', async () => {
    const w = await world();
    const headers = { ...w.auth, 'idempotency-key': 'same-key-0001' };
    const body = { consentId: w.consentId, nonce: hex32('0a') };
    const a = await w.call('POST', '/v1/jobs', body, headers);
    const b = await w.call('POST', '/v1/jobs', body, headers);
    expect(a.status).toBe(201);
    expect(b.status).toBe(200);
    expect(b.json.jobId).toBe(a.json.jobId);
    expect((await w.call('GET', '/healthz')).json.logSize).toBe(1);
    expect((await w.call('POST', '/v1/jobs', { ...body, nonce: hex32('0b') }, headers)).json.code).toBe(
      'ERR_IDEMPOTENCY_CONFLICT',
    );
    expect((await w.call('POST', '/v1/jobs', body, w.auth)).json.code).toBe('ERR_INPUT_MALFORMED');
  });

  it('refuses an idempotency key outside its format (short, long, other characters) and accepts nothing under it', async () => {
    const w = await world();
    const body = { consentId: w.consentId, nonce: hex32('0c') };
    for (const key of ['short', 'k'.repeat(129), 'has space 0001', 'semi;colon-0001', 'ünïcode-key-0001']) {
      const r = await w.call('POST', '/v1/jobs', body, { ...w.auth, 'idempotency-key': key });
      expect(r.status, key).toBe(400);
      expect(r.json.code, key).toBe('ERR_INPUT_MALFORMED');
      expect(r.json.detail, key).toMatch(/^header\.idempotency-key: /);
    }
    expect((await w.call('GET', '/healthz')).json.logSize).toBe(0);
    expect((await w.call('POST', '/v1/jobs', body, { ...w.auth, 'idempotency-key': 'k'.repeat(128) })).status).toBe(
      201,
    );
  });

  it('job and request ids start with the request time in milliseconds and end in random bytes, so later ids sort after earlier ones', async () => {
    const w = await world();
    const ids: Array<{ jobId: string; requestId: string }> = [];
    for (const ms of [0, 0, 1, 257, 70_000]) {
      w.setNow(new Date(NOW.getTime() + ms));
      const r = await w.score();
      expect(r.status).toBe(201);
      ids.push({ jobId: r.json.jobId, requestId: r.json.requestId });
    }
    const prefix = (ms: number) => (NOW.getTime() + ms).toString(16).padStart(12, '0');
    for (const [i, ms] of [0, 0, 1, 257, 70_000].entries()) {
      expect(ids[i]!.jobId).toMatch(new RegExp(`^0x${prefix(ms)}[0-9a-f]{20}$`));
      expect(ids[i]!.requestId).toMatch(new RegExp(`^0x${prefix(ms)}[0-9a-f]{52}$`));
    }
    // Same millisecond: the random parts differ.
    expect(ids[0]!.jobId).not.toBe(ids[1]!.jobId);
    expect(ids[0]!.requestId).not.toBe(ids[1]!.requestId);
    expect(ids.slice(2).map((x) => x.requestId)).toEqual(
      ids
        .slice(2)
        .map((x) => x.requestId)
        .sort(),
    );
  });

  it('nonce replay: a lender reusing a nonce is refused and nothing is written', async () => {
    const w = await world();
    await w.score({ nonce: hex32('0c') });
    expect((await w.score({ nonce: hex32('0c') })).json).toMatchObject({ status: 409, code: 'ERR_NONCE_REPLAYED' });
    expect((await w.call('GET', '/healthz')).json.logSize).toBe(1);
  });

  it('escrow job reuse: a second scoring job for the same escrow job is refused (409 ERR_ESCROW_JOB_TAKEN), nothing written', async () => {
    const w = await world();
    const escrowJobId = hex32('e1');
    expect((await w.score({ escrowJobId, nonce: hex32('0d') })).status).toBe(201);
    expect((await w.score({ escrowJobId, nonce: hex32('0e') })).json).toMatchObject({
      status: 409,
      code: 'ERR_ESCROW_JOB_TAKEN',
    });
    // The refused job consumed neither its nonce nor a consent use.
    expect((await w.score({ nonce: hex32('0e') })).status).toBe(201);
    expect((await w.call('GET', '/healthz')).json.logSize).toBe(2);
  });

  it("a job the model refuses finishes within the wait as 201 with state failed and the model's code, and nothing is logged", async () => {
    const refusing = {
      modelHash: hex32('ab'),
      executionProvider: 'none' as const,
      score: async () => {
        throw new PropsError('ERR_FEATURES_HISTORY_TOO_SHORT');
      },
    };
    const w = await world({ scorer: refusing });
    const r = await w.score();
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ state: 'failed', error: 'ERR_FEATURES_HISTORY_TOO_SHORT' });
    expect(r.json.attestation).toBeUndefined();
    expect((await w.call('GET', `/v1/jobs/${r.json.jobId}`, undefined, w.auth)).json).toMatchObject({
      state: 'failed',
      error: 'ERR_FEATURES_HISTORY_TOO_SHORT',
    });
    expect((await w.call('GET', '/healthz')).json.logSize).toBe(0);
  });

  it("escrow job squatting: a lender naming another lender's escrow job id first does not shut that lender out of its job", async () => {
    const w = await world();
    // Escrow job ids are public and sequential on chain: lender B can see (or guess) the id lender A is opening.
    const escrowJobId = hex32('e2');
    const squatter = await w.newLender('bank-b');
    const consent = await signConsent(w.owner, { submissionId: w.submissionId, lender: squatter.lenderId });
    const cid = (await w.call('POST', '/v1/consents', { consent })).json.consentId;
    const squat = await w.score(
      { consentId: cid, escrowJobId, nonce: hex32('0f') },
      { authorization: `Bearer ${squatter.apiKey}`, ...idem() },
    );
    expect(squat.status).toBe(201);
    // A's own job for its escrow job is still scored, under the same request id (what its escrow releases for).
    const own = await w.score({ escrowJobId, nonce: hex32('0f') });
    expect(own.status).toBe(201);
    expect(own.json).toMatchObject({ state: 'done', requestId: escrowJobId, escrowJobId });
    expect(squat.json.requestId).toBe(escrowJobId);
    expect(own.json.jobId).not.toBe(squat.json.jobId);
    // Each lender still gets one scoring job per escrow job.
    expect((await w.score({ escrowJobId, nonce: hex32('10') })).json).toMatchObject({
      status: 409,
      code: 'ERR_ESCROW_JOB_TAKEN',
    });
    expect(
      (
        await w.score(
          { consentId: cid, escrowJobId, nonce: hex32('10') },
          { authorization: `Bearer ${squatter.apiKey}`, ...idem() },
        )
      ).json,
    ).toMatchObject({ status: 409, code: 'ERR_ESCROW_JOB_TAKEN' });
    expect((await w.call('GET', '/healthz')).json.logSize).toBe(2);
  });

  it('consent limits: wrong lender, unknown consent, exhausted uses, expiry', async () => {
    const w = await world();
    const other = await w.newLender('bank-b');
    expect((await w.score({}, { authorization: `Bearer ${other.apiKey}`, ...idem() })).json.code).toBe(
      'ERR_CONSENT_WRONG_LENDER',
    );
    expect((await w.score({ consentId: hex32('99') })).json.code).toBe('ERR_CONSENT_NOT_FOUND');
    for (let i = 0; i < 5; i++) expect((await w.score()).status).toBe(201);
    expect((await w.score()).json).toMatchObject({ status: 403, code: 'ERR_CONSENT_EXHAUSTED' });
    const c2 = await signConsent(w.owner, {
      submissionId: w.submissionId,
      lender: w.lender.lenderId,
      expiresAt: nowS + 10,
    });
    const id2 = (await w.call('POST', '/v1/consents', { consent: c2 })).json.consentId;
    w.setNow(new Date(NOW.getTime() + 11_000));
    expect((await w.score({ consentId: id2 })).json.code).toBe('ERR_CONSENT_EXPIRED');
  });

  it('model probing through many fake lender accounts hits the per-borrower cap', async () => {
    const w = await world({ limits: { borrowerCap: 3 } });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const l = await w.newLender(`sybil-${i}`);
      const consent = await signConsent(w.owner, { submissionId: w.submissionId, lender: l.lenderId });
      const cid = (await w.call('POST', '/v1/consents', { consent })).json.consentId;
      const r = await w.score({ consentId: cid }, { authorization: `Bearer ${l.apiKey}`, ...idem() });
      codes.push(r.json.code ?? String(r.status));
    }
    expect(codes).toEqual(['201', '201', '201', 'ERR_BORROWER_QUERY_CAP', 'ERR_BORROWER_QUERY_CAP']);
  });

  it('rate limits each lender', async () => {
    const w = await world();
    const slow = await w.newLender('slow', 2);
    const consent = await signConsent(w.owner, { submissionId: w.submissionId, lender: slow.lenderId });
    const cid = (await w.call('POST', '/v1/consents', { consent })).json.consentId;
    const h = () => ({ authorization: `Bearer ${slow.apiKey}`, ...idem() });
    expect((await w.score({ consentId: cid }, h())).status).toBe(201);
    expect((await w.score({ consentId: cid }, h())).status).toBe(201);
    expect((await w.score({ consentId: cid }, h())).json).toMatchObject({ status: 429, code: 'ERR_RATE_LIMITED' });
  });

  it('GET /v1/jobs/{id}: another lender or an unknown id gets ERR_JOB_NOT_FOUND; a bad id is malformed', async () => {
    const w = await world();
    const r = await w.score();
    const other = await w.newLender('bank-c');
    expect(
      (await w.call('GET', `/v1/jobs/${r.json.jobId}`, undefined, { authorization: `Bearer ${other.apiKey}` })).json
        .code,
    ).toBe('ERR_JOB_NOT_FOUND');
    expect((await w.call('GET', `/v1/jobs/0x${'0'.repeat(32)}`, undefined, w.auth)).json.code).toBe(
      'ERR_JOB_NOT_FOUND',
    );
    expect((await w.call('GET', '/v1/jobs/zzz', undefined, w.auth)).json.code).toBe('ERR_INPUT_MALFORMED');
  });

  it('refuses unknown fields and malformed nonces in a job request', async () => {
    const w = await world();
    expect((await w.score({ extra: 1 })).json.code).toBe('ERR_INPUT_MALFORMED');
    expect((await w.score({ nonce: '0x12' })).json.code).toBe('ERR_INPUT_MALFORMED');
  });
});

describe('admin', () => {
  it('keeps admin separate: no token, a lender key, or a wrong token are refused', async () => {
    const w = await world();
    expect((await w.call('POST', '/v1/admin/lenders', { name: 'x' })).json.code).toBe('ERR_AUTH_MISSING');
    expect((await w.call('POST', '/v1/admin/lenders', { name: 'x' }, w.auth)).json.code).toBe('ERR_AUTH_FORBIDDEN');
    expect(
      (await w.call('POST', '/v1/admin/lenders', { name: 'x' }, { authorization: `Bearer ${ADMIN}x` })).json.code,
    ).toBe('ERR_AUTH_FORBIDDEN');
    expect(
      (await w.call('POST', '/v1/admin/lenders', { name: '' }, { authorization: `Bearer ${ADMIN}` })).json.code,
    ).toBe('ERR_INPUT_MALFORMED');
  });

  it('stores API keys only as hashes', async () => {
    const w = await world();
    const db = (w.store as unknown as { sqlite: import('better-sqlite3').Database }).sqlite;
    const rows = db.prepare('select key_hash from lenders').all() as Array<{ key_hash: string }>;
    expect(rows.map((r) => r.key_hash)).not.toContain(w.lender.apiKey);
    expect(readFileSync(w.dbFile).toString('latin1')).not.toContain(w.lender.apiKey);
  });

  it('retention deletes ciphertexts; a later job on that submission is refused with ERR_SUBMISSION_NOT_FOUND', async () => {
    const w = await world({ limits: { retentionSeconds: 60 } });
    const admin = { authorization: `Bearer ${ADMIN}` };
    expect((await w.call('POST', '/v1/admin/retention', {}, admin)).json).toEqual({ deleted: 0 });
    w.setNow(new Date(NOW.getTime() + 61_000));
    expect((await w.call('POST', '/v1/admin/retention', {}, admin)).json).toEqual({ deleted: 1 });
    expect((await w.score()).json.code).toBe('ERR_SUBMISSION_NOT_FOUND');
    const db = (w.store as unknown as { sqlite: import('better-sqlite3').Database }).sqlite;
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(w.dbFile).toString('latin1')).not.toContain(w.jwe.slice(-40));
  });
});

describe('memory', () => {
  it('memory exhaustion: decrypted statements are kept up to limits.cachedStatements; a job whose statement was dropped re-opens it from the store', async () => {
    const enclave = await simEnclave({ seed: 'service' });
    const reopened: string[] = [];
    const ingest = plainIngest(enclave);
    const w = await world({
      enclave,
      limits: { cachedStatements: 1 },
      ingest: async (jwe, reopen) => {
        const sub = await ingest(jwe, reopen);
        if (reopen) reopened.push(sub.submissionId);
        return sub;
      },
    });
    // A second submission takes the one place: the first's statement is dropped from memory.
    const other = await w.call('POST', '/v1/submissions', { jwe: await makeSubmission(w.enclave, await newOwner()) });
    expect(other.status).toBe(201);
    const r = await w.score();
    expect(r.json).toMatchObject({ state: 'done' });
    expect(reopened).toEqual([w.submissionId]);
    // Now cached again: the next job for it needs no re-opening.
    expect((await w.score()).json).toMatchObject({ state: 'done' });
    expect(reopened).toEqual([w.submissionId]);
  });
});

describe('confidentiality', () => {
  it('plaintext scan: no record value reaches the SQLite files or the service logs', async () => {
    const w = await world();
    for (let i = 0; i < 3; i++) expect((await w.score()).status).toBe(201);
    await w.call('POST', '/v1/submissions', { jwe: 'a.b.c.d.e' }); // a failure path logs too
    const dir = dirname(w.dbFile);
    const bytes = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f)).toString('latin1'))
      .join('\n');
    const logs = w.logLines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const s of [SENTINEL.account, SENTINEL.description, SENTINEL.subject, '987654', '1111110']) {
      expect(bytes.includes(s), `db holds ${s}`).toBe(false);
      expect(logs.includes(s), `logs hold ${s}`).toBe(false);
    }
  });
});
