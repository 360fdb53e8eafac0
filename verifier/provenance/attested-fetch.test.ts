// Attested-fetch records: the enclave's ES256 signature under a trusted (policy or evidence-bound) key over the
// canonical record, host pin, status, size and body digest.
import { describe, expect, it } from 'vitest';
import { ATTESTED_FETCH_JWS_TYP, attestedFetchPayload, utf8, type PublicJwk } from '../../protocol/index.ts';
import { verifyAttestedFetch, verifyProvenance } from './index.ts';
import { basePolicy, makeAttestedFetch, makeKey, sampleRecord, signJws } from '../../testing/provenance.ts';

const now = new Date('2026-09-21T12:05:00Z');

async function setup() {
  const key = await makeKey('enclave-jws-1');
  const policy = basePolicy({
    attestedFetch: { hosts: ['bank.example'], algorithms: ['ES256'], enclaveKeys: [key.jwk], statuses: [200] },
  });
  return { key, policy };
}

describe('attested-fetch', () => {
  it('verifies with the body and parses its statement; without the body it certifies the record only', async () => {
    const { key, policy } = await setup();
    const { jws, body } = await makeAttestedFetch(key);
    const withBody = await verifyAttestedFetch({ jws, body }, { policy, now });
    expect(withBody.statement?.accountId).toBe('acc_1');
    const bare = await verifyAttestedFetch({ jws }, { policy, now });
    expect(bare.body).toBeUndefined();
    expect(bare.statement).toBeUndefined();
  });

  it('trusts an enclave key bound in already-verified evidence', async () => {
    const { key } = await setup();
    const { jws } = await makeAttestedFetch(key);
    const policy = basePolicy({
      attestedFetch: { hosts: 'any', algorithms: ['ES256'], enclaveKeys: [], statuses: [200] },
    });
    const bound = { ...key.jwk, kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' } as PublicJwk;
    await expect(verifyAttestedFetch({ jws }, { policy, now, boundEnclaveKeys: [bound] })).resolves.toMatchObject({
      signer: 'enclave-jws-1',
    });
    // An encryption key bound in the same evidence is never a signing key.
    await expect(
      verifyAttestedFetch({ jws }, { policy, now, boundEnclaveKeys: [{ ...bound, use: 'enc' }] }),
    ).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_SIGNER_UNTRUSTED',
    });
  });

  it('host mismatch: a record whose host differs from its url is refused', async () => {
    const { key, policy } = await setup();
    const { jws } = await makeAttestedFetch(key, { url: 'https://evil.example/api' });
    await expect(verifyAttestedFetch({ jws }, { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_HOST_NOT_ALLOWED',
    });
  });

  it('error status: a fetch that got 401 certifies nothing', async () => {
    const { key, policy } = await setup();
    const { jws } = await makeAttestedFetch(key, { status: 401 });
    await expect(verifyAttestedFetch({ jws }, { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_STATUS_NOT_OK',
    });
  });

  it('oversized body is refused by the transcript limit', async () => {
    const { key, policy } = await setup();
    const { jws } = await makeAttestedFetch(key, { bodyBytes: policy.maxTranscriptBytes + 1 });
    await expect(verifyAttestedFetch({ jws }, { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_TRANSCRIPT_TOO_LARGE',
    });
  });

  it('non-canonical record bytes are malformed even when signed', async () => {
    const { key, policy } = await setup();
    const record = sampleRecord(utf8('{}'));
    const pretty = utf8(JSON.stringify(record, null, 2));
    const jws = await signJws(key, ATTESTED_FETCH_JWS_TYP, pretty);
    await expect(verifyAttestedFetch({ jws }, { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_MALFORMED',
    });
    const ok = await signJws(key, ATTESTED_FETCH_JWS_TYP, attestedFetchPayload(record));
    await expect(verifyAttestedFetch({ jws: ok }, { policy, now })).resolves.toMatchObject({ kind: 'attested-fetch' });
  });

  it('envelope: unknown kind, unknown version and a good envelope', async () => {
    const { key, policy } = await setup();
    const { jws, body } = await makeAttestedFetch(key);
    await expect(verifyProvenance({ version: 1, kind: 'zk-magic', jws }, { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_UNKNOWN_KIND',
    });
    await expect(verifyProvenance({ version: 2, kind: 'attested-fetch', jws }, { policy, now })).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_VERSION',
    });
    await expect(
      verifyProvenance({ version: 1, kind: 'attested-fetch', jws, extra: 1 }, { policy, now }),
    ).rejects.toMatchObject({ code: 'ERR_PROVENANCE_MALFORMED' });
    await expect(
      verifyProvenance(
        { version: 1, kind: 'attested-fetch', jws, body: Buffer.from(body).toString('base64') },
        { policy, now },
      ),
    ).resolves.toMatchObject({ kind: 'attested-fetch', host: 'bank.example' });
  });
});
