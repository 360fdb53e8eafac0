// Consents: signed by the data owner (oracle/consent.ts), checked by verifier/consent.ts with a code per refusal.
import { beforeAll, describe, expect, it } from 'vitest';
import { consentRef, type Hex } from '../protocol/index.ts';
import { generateOwnerKey, grantConsent, type OwnerKey } from '../oracle/index.ts';
import { verifyConsent, type VerifyConsentParameters } from '../verifier/consent.ts';

const NOW = new Date('2026-11-22T04:00:00.000Z');
const IC: Hex = `0x${'ab'.repeat(32)}`;
let owner: OwnerKey;
let jws: string;

beforeAll(async () => {
  owner = (await generateOwnerKey()).key;
  jws = (
    await grantConsent(
      {
        lender: 'lender.acme-bank',
        purpose: 'credit-scoring',
        expiry: new Date(NOW.getTime() + 86_400_000),
        maxUses: 2,
        inputCommitment: IC,
      },
      owner,
      { now: () => NOW },
    )
  ).jws;
});

const params = (over: Partial<VerifyConsentParameters> = {}): VerifyConsentParameters => ({
  ownerJwk: owner.publicJwk,
  lender: 'lender.acme-bank',
  purpose: 'credit-scoring',
  inputCommitment: IC,
  now: NOW,
  usesSoFar: 0,
  clockSkewSeconds: 30,
  ...over,
});

describe('consent', () => {
  it('a valid consent names lender, purpose, expiry and maximum uses; its ref is a tagged digest', async () => {
    const c = await verifyConsent(jws, params());
    expect(c).toMatchObject({ lender: 'lender.acme-bank', purpose: 'credit-scoring', maxUses: 2, inputCommitment: IC });
    expect(c.exp - c.iat).toBe(86_400);
    expect(consentRef(jws)).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('consent missing', async () => {
    for (const m of [undefined, null, ''])
      await expect(verifyConsent(m, params())).rejects.toMatchObject({ code: 'ERR_CONSENT_MISSING' });
  });

  it('consent malformed', async () => {
    await expect(verifyConsent({ jws }, params())).rejects.toMatchObject({ code: 'ERR_CONSENT_MALFORMED' });
  });

  it('consent expired', async () => {
    await expect(verifyConsent(jws, params({ now: new Date(NOW.getTime() + 2 * 86_400_000) }))).rejects.toMatchObject({
      code: 'ERR_CONSENT_EXPIRED',
    });
  });

  it('attack: a consent checked at an invalid time (every bound compares false against it) is refused', async () => {
    await expect(verifyConsent(jws, params({ now: new Date(Number.NaN) }))).rejects.toMatchObject({
      code: 'ERR_NOW_INVALID',
    });
  });

  it('consent not yet valid', async () => {
    await expect(verifyConsent(jws, params({ now: new Date(NOW.getTime() - 3_600_000) }))).rejects.toMatchObject({
      code: 'ERR_CONSENT_NOT_YET_VALID',
    });
  });

  it('attack: consent for another lender presented by this one', async () => {
    await expect(verifyConsent(jws, params({ lender: 'lender.other' }))).rejects.toMatchObject({
      code: 'ERR_CONSENT_WRONG_LENDER',
    });
  });

  it('attack: consent reused for another purpose or other inputs', async () => {
    await expect(verifyConsent(jws, params({ inputCommitment: `0x${'cd'.repeat(32)}` }))).rejects.toMatchObject({
      code: 'ERR_CONSENT_WRONG_INPUTS',
    });
  });

  it('attack: consent used more than maxUses times', async () => {
    await expect(verifyConsent(jws, params({ usesSoFar: 2 }))).rejects.toMatchObject({ code: 'ERR_CONSENT_EXHAUSTED' });
  });

  it('attack: consent signed by someone other than the data owner', async () => {
    const mallory = (await generateOwnerKey()).key;
    const forged = (
      await grantConsent(
        {
          lender: 'lender.acme-bank',
          purpose: 'credit-scoring',
          expiry: new Date(NOW.getTime() + 86_400_000),
          maxUses: 99,
          inputCommitment: IC,
        },
        mallory,
        { now: () => NOW },
      )
    ).jws;
    await expect(verifyConsent(forged, params())).rejects.toMatchObject({ code: 'ERR_CONSENT_SIGNATURE_INVALID' });
    const [h, , s] = jws.split('.');
    const tampered = `${h}.${forged.split('.')[1]}.${s}`;
    await expect(verifyConsent(tampered, params())).rejects.toMatchObject({ code: 'ERR_CONSENT_SIGNATURE_INVALID' });
  });

  it('refuses to grant a consent that is already expired', async () => {
    await expect(
      grantConsent({ lender: 'l', purpose: 'credit-scoring', expiry: NOW, maxUses: 1, inputCommitment: IC }, owner, {
        now: () => NOW,
      }),
    ).rejects.toMatchObject({ code: 'ERR_CONSENT_EXPIRED' });
  });
});
