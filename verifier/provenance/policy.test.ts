// The provenance policy file: versioned, every field required, no wildcard hosts, no symmetric algorithms, no
// private key material.
import { describe, expect, it } from 'vitest';
import { parseProvenancePolicy, provenancePolicyHash } from './index.ts';
import { basePolicy } from '../../testing/provenance.ts';

describe('provenance policy', () => {
  it('round-trips the base policy and hashes it stably', () => {
    const p = parseProvenancePolicy(JSON.parse(JSON.stringify(basePolicy())));
    expect(provenancePolicyHash(p)).toBe(provenancePolicyHash(basePolicy()));
  });

  it('a missing field is a rejection, not a default', () => {
    const { maxAgeSeconds: _omit, ...rest } = basePolicy();
    expect(() => parseProvenancePolicy(rest)).toThrow(
      expect.objectContaining({ code: 'ERR_PROVENANCE_POLICY_MALFORMED' }),
    );
  });

  it('an unknown version is refused, including v1 (its bare kids were trusted for every host)', () => {
    for (const version of [1, 3]) {
      expect(() => parseProvenancePolicy({ ...basePolicy(), version })).toThrow(
        expect.objectContaining({ code: 'ERR_UNKNOWN_VERSION' }),
      );
    }
  });

  it('signed-source kids must each name their issuers: bare kids, empty or wildcard issuers, duplicate kids are refused', () => {
    const p = basePolicy();
    const issuers = ['bank.example'];
    for (const kids of [
      ['k'],
      [{ kid: 'k' }],
      [{ kid: 'k', issuers: [] }],
      [{ kid: 'k', issuers: ['*.bank.example'] }],
      [
        { kid: 'k', issuers },
        { kid: 'k', issuers: ['other.example'] },
      ],
    ]) {
      expect(
        () => parseProvenancePolicy({ ...p, signedSource: { ...p.signedSource, kids } }),
        JSON.stringify(kids),
      ).toThrow(expect.objectContaining({ code: 'ERR_PROVENANCE_POLICY_MALFORMED' }));
    }
    expect(
      parseProvenancePolicy({ ...p, signedSource: { ...p.signedSource, kids: [{ kid: 'k', issuers }] } }).signedSource
        .kids,
    ).toEqual([{ kid: 'k', issuers }]);
  });

  it('wildcard host entries cannot be written', () => {
    const p = basePolicy();
    expect(() => parseProvenancePolicy({ ...p, tlsn: { ...p.tlsn, hosts: ['*.bank.example'] } })).toThrow(
      expect.objectContaining({ code: 'ERR_PROVENANCE_POLICY_MALFORMED' }),
    );
  });

  it('HS256 and none are not allowable algorithms', () => {
    const p = basePolicy();
    for (const alg of ['HS256', 'none']) {
      expect(() => parseProvenancePolicy({ ...p, signedSource: { ...p.signedSource, algorithms: [alg] } })).toThrow(
        expect.objectContaining({ code: 'ERR_PROVENANCE_POLICY_MALFORMED' }),
      );
    }
  });

  it('a pinned key carrying private material is refused', () => {
    const p = basePolicy();
    const jwk = { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA', kid: 'k', alg: 'ES256' };
    expect(() =>
      parseProvenancePolicy({
        ...p,
        signedSource: { ...p.signedSource, jwks: { keys: [jwk] }, kids: [{ kid: 'k', issuers: ['bank.example'] }] },
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_PROVENANCE_POLICY_MALFORMED' }));
  });
});
