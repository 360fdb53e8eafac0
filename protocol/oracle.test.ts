// Oracle wire formats: thumbprints agree with RFC 7638 (as jose computes them), commitments are order-sensitive and
// body-blind, and the schemas refuse unknown fields and versions with their codes.
import { describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import {
  inputCommitment,
  jwkThumbprint,
  parseConsent,
  parseReceipt,
  parseSubmission,
  proofDigest,
  type ProvenanceProof,
} from './index.ts';

const A: ProvenanceProof = { version: 1, kind: 'signed-source', jws: 'a.b.c' };
const B: ProvenanceProof = { version: 1, kind: 'attested-fetch', jws: 'd.e.f', body: 'AAAA' };

describe('protocol/oracle', () => {
  it('jwkThumbprint equals RFC 7638 (jose) for a P-256 key', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const j = await exportJWK(publicKey);
    const expected = await calculateJwkThumbprint(j);
    expect(jwkThumbprint({ kty: 'EC', crv: 'P-256', x: j.x!, y: j.y!, kid: 'k', alg: 'ES256', use: 'sig' })).toBe(
      expected,
    );
  });

  it('input commitment depends on order and on each proof, not on an attested-fetch body', () => {
    expect(inputCommitment([A, B])).not.toBe(inputCommitment([B, A]));
    expect(inputCommitment([A, B])).toBe(inputCommitment([A, { ...B, body: 'BBBB' }]));
    expect(inputCommitment([A])).not.toBe(inputCommitment([{ ...A, jws: 'a.b.d' }]));
    expect(proofDigest(A)).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('schemas refuse unknown versions and fields with their codes', () => {
    expect(() => parseSubmission({ version: 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_VERSION', detail: 'version=2' }),
    );
    // An unknown version is named by its type only when it is not a small integer: it could carry anything.
    expect(() => parseSubmission({ version: { account: 'SECRET-ACCT-1234' } })).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_VERSION', detail: 'version=object' }),
    );
    expect(() => parseSubmission({ version: 10n })).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_VERSION', detail: 'version=bigint' }),
    );
    expect(() => parseSubmission({ version: 1, typ: 'props-submission' })).toThrow(
      expect.objectContaining({ code: 'ERR_SUBMISSION_MALFORMED' }),
    );
    expect(() => parseReceipt({ version: 1, extra: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_RECEIPT_MALFORMED' }),
    );
    expect(() => parseConsent({ v: 1 })).toThrow(expect.objectContaining({ code: 'ERR_CONSENT_MALFORMED' }));
  });
});
