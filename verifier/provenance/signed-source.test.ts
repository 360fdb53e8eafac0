// Signed-source JWS: pinned JWKS + kid bound to its issuers, asymmetric algorithm allow-list, iat/exp against the
// injected clock.
import { CompactSign } from 'jose';
import { describe, expect, it } from 'vitest';
import { SIGNED_SOURCE_JWS_TYP, utf8 } from '../../protocol/index.ts';
import { verifySignedSource } from './index.ts';
import { basePolicy, makeKey, makeSignedSource, sampleStatement, signJws } from '../../testing/provenance.ts';

const b64u = (s: string) => Buffer.from(s).toString('base64url');

async function setup() {
  const key = await makeKey('bank-2026');
  const policy = basePolicy({
    signedSource: {
      hosts: ['bank.example'],
      algorithms: ['ES256'],
      jwks: { keys: [key.jwk] },
      kids: [{ kid: key.jwk.kid, issuers: ['bank.example'] }],
    },
  });
  return { key, policy, now: new Date(1_790_000_100_000) };
}

describe('signed-source', () => {
  it('returns the signed statement as records', async () => {
    const { key, policy, now } = await setup();
    const v = await verifySignedSource(await makeSignedSource(key), { policy, now });
    expect(v.statement).toEqual(sampleStatement());
    expect(v.time).toBe('2026-09-21T14:13:20Z');
  });

  it('alg none: an unsigned token is refused', async () => {
    const { key, policy, now } = await setup();
    const jws = await makeSignedSource(key);
    const [, p] = jws.split('.');
    const none = `${b64u(JSON.stringify({ alg: 'none', typ: SIGNED_SOURCE_JWS_TYP, kid: key.jwk.kid }))}.${p}.`;
    await expect(verifySignedSource(none, { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_ALG_NOT_ALLOWED',
    });
  });

  it('HS256 key confusion: an HMAC keyed with the public key is refused', async () => {
    const { key, policy, now } = await setup();
    const secret = utf8(JSON.stringify(key.jwk));
    const payload = utf8(
      JSON.stringify({
        v: 1,
        iss: 'bank.example',
        sub: 'acc_1',
        iat: 1_790_000_000,
        exp: 1_790_000_600,
        statement: sampleStatement(),
      }),
    );
    const forged = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'HS256', typ: SIGNED_SOURCE_JWS_TYP, kid: key.jwk.kid })
      .sign(secret);
    await expect(verifySignedSource(forged, { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_ALG_NOT_ALLOWED',
    });
    // Even a policy that listed HS256 could not be written: the schema knows only asymmetric algorithms.
  });

  it('alg switch: an EdDSA token under a kid pinned for ES256 is refused', async () => {
    const { key, now } = await setup();
    const ed = await makeKey('bank-2026', 'EdDSA');
    const policy = basePolicy({
      signedSource: {
        hosts: 'any',
        algorithms: ['ES256', 'EdDSA'],
        jwks: { keys: [key.jwk] },
        kids: [{ kid: key.jwk.kid, issuers: ['bank.example'] }],
      },
    });
    await expect(verifySignedSource(await makeSignedSource(ed), { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_ALG_NOT_ALLOWED',
    });
  });

  it('unknown kid: a key in the JWKS but not pinned by kid is untrusted', async () => {
    const { key, now } = await setup();
    const policy = basePolicy({
      signedSource: {
        hosts: 'any',
        algorithms: ['ES256'],
        jwks: { keys: [key.jwk] },
        kids: [{ kid: 'other', issuers: ['bank.example'] }],
      },
    });
    await expect(verifySignedSource(await makeSignedSource(key), { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_SIGNER_UNTRUSTED',
    });
  });

  it('forged signature under the pinned kid by another key', async () => {
    const { policy, now } = await setup();
    const attacker = await makeKey('bank-2026');
    await expect(verifySignedSource(await makeSignedSource(attacker), { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_SIGNATURE_INVALID',
    });
  });

  it('expired: exp has passed even though iat is within max age', async () => {
    const { key, policy } = await setup();
    await expect(
      verifySignedSource(await makeSignedSource(key), { policy, now: new Date(1_790_000_600_000) }),
    ).rejects.toMatchObject({ code: 'ERR_PROVENANCE_STALE' });
  });

  it('attack: an invalid verification time (every freshness bound compares false against it) is refused', async () => {
    const { key, policy } = await setup();
    await expect(
      verifySignedSource(await makeSignedSource(key), { policy, now: new Date('yesterday') }),
    ).rejects.toMatchObject({ code: 'ERR_NOW_INVALID' });
  });

  it('wrong typ and non-Statement payloads are malformed', async () => {
    const { key, policy, now } = await setup();
    const wrongTyp = await signJws(key, 'JWT', utf8('{}'));
    await expect(verifySignedSource(wrongTyp, { policy, now })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_MALFORMED',
    });
    const bad = await signJws(
      key,
      SIGNED_SOURCE_JWS_TYP,
      utf8(JSON.stringify({ v: 1, iss: 'bank.example', sub: 'a', iat: 1, exp: 2, statement: { version: 9 } })),
    );
    await expect(verifySignedSource(bad, { policy, now })).rejects.toMatchObject({ code: 'ERR_PROVENANCE_MALFORMED' });
  });

  describe('two pinned sources, each bound to its own issuer', () => {
    async function twoBanks() {
      const a = await makeKey('bank-a-1');
      const b = await makeKey('bank-b-1');
      const kids = [
        { kid: 'bank-a-1', issuers: ['bank-a.example'] },
        { kid: 'bank-b-1', issuers: ['bank-b.example'] },
      ];
      const policy = basePolicy({
        signedSource: {
          hosts: ['bank-a.example', 'bank-b.example'],
          algorithms: ['ES256'],
          jwks: { keys: [a.jwk, b.jwk] },
          kids,
        },
      });
      return { a, b, policy, now: new Date(1_790_000_100_000) };
    }

    it('each source verifies for its own issuer', async () => {
      const { a, b, policy, now } = await twoBanks();
      await expect(
        verifySignedSource(await makeSignedSource(a, { iss: 'bank-a.example' }), { policy, now }),
      ).resolves.toMatchObject({ signer: 'bank-a-1', host: 'bank-a.example' });
      await expect(
        verifySignedSource(await makeSignedSource(b, { iss: 'bank-b.example' }), { policy, now }),
      ).resolves.toMatchObject({ signer: 'bank-b-1', host: 'bank-b.example' });
    });

    it("source impersonation: bank A's pinned key signing records as bank B is refused (ERR_PROVENANCE_ISSUER_MISMATCH)", async () => {
      const { a, policy, now } = await twoBanks();
      // bank-b.example passes the section's host allow-list; only the kid's own binding refuses it.
      await expect(
        verifySignedSource(await makeSignedSource(a, { iss: 'bank-b.example' }), { policy, now }),
      ).rejects.toMatchObject({
        code: 'ERR_PROVENANCE_ISSUER_MISMATCH',
      });
      // hosts "any" does not widen a kid's issuers either.
      const anyHost = { ...policy, signedSource: { ...policy.signedSource, hosts: 'any' as const } };
      await expect(
        verifySignedSource(await makeSignedSource(a, { iss: 'bank-c.example' }), { policy: anyHost, now }),
      ).rejects.toMatchObject({
        code: 'ERR_PROVENANCE_ISSUER_MISMATCH',
      });
    });
  });

  it('host mismatch: iss must be exactly an allowed host', async () => {
    const { key, policy, now } = await setup();
    await expect(
      verifySignedSource(await makeSignedSource(key, { iss: 'evil.bank.example' }), { policy, now }),
    ).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_HOST_NOT_ALLOWED',
    });
  });
});
