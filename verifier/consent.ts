// Checking a data owner's consent (authentic? then acceptable for this lender, purpose, inputs, time and use count).
// Used by the enclave before scoring and by anyone previewing a consent; fails closed with ERR_CONSENT_* codes.
import { compactVerify, importJWK, type JWK } from 'jose';
import {
  CONSENT_JWS_TYP,
  decodeProtectedHeaderStrict,
  jsonOfUtf8,
  PropsError,
  jwkThumbprint,
  parseConsent,
  type Consent,
  type Hex,
  type PublicJwk,
} from '../protocol/index.ts';
import { verificationTime } from './now.ts';

export type VerifyConsentParameters = {
  /** The owner key from the accepted submission; the consent must be signed by it. */
  ownerJwk: PublicJwk;
  lender: string;
  purpose: Consent['purpose'];
  inputCommitment: Hex;
  now: Date;
  /** How many times this consent id has already been used (the caller counts). */
  usesSoFar: number;
  clockSkewSeconds: number;
};

export async function verifyConsent(jws: unknown, p: VerifyConsentParameters): Promise<Consent> {
  const nowMs = verificationTime(p.now);
  if (jws === undefined || jws === null || jws === '') throw new PropsError('ERR_CONSENT_MISSING');
  if (typeof jws !== 'string' || jws.length > 8192 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(jws)) {
    throw new PropsError('ERR_CONSENT_MALFORMED');
  }
  const k = p.ownerJwk;
  const alg = k.alg === 'EdDSA' ? 'EdDSA' : 'ES256';
  try {
    decodeProtectedHeaderStrict(jws);
  } catch (cause) {
    throw new PropsError('ERR_CONSENT_MALFORMED', { detail: 'protected header', cause });
  }
  let payload: Uint8Array;
  try {
    const key = await importJWK({ kty: k.kty, crv: k.crv, x: k.x, ...(k.y ? { y: k.y } : {}) } as JWK, alg);
    const v = await compactVerify(jws, key, { algorithms: [alg] });
    if (v.protectedHeader.typ !== CONSENT_JWS_TYP) throw new Error('typ');
    payload = v.payload;
  } catch {
    throw new PropsError('ERR_CONSENT_SIGNATURE_INVALID');
  }
  let parsed: unknown;
  try {
    parsed = jsonOfUtf8(payload, jws.length);
  } catch (cause) {
    throw new PropsError('ERR_CONSENT_MALFORMED', { cause });
  }
  const c = parseConsent(parsed);
  if (c.owner !== jwkThumbprint(k)) throw new PropsError('ERR_CONSENT_SIGNATURE_INVALID', { detail: 'owner' });
  if (c.lender !== p.lender) throw new PropsError('ERR_CONSENT_WRONG_LENDER');
  if (c.purpose !== p.purpose) throw new PropsError('ERR_CONSENT_WRONG_PURPOSE');
  if (c.inputCommitment !== p.inputCommitment) throw new PropsError('ERR_CONSENT_WRONG_INPUTS');
  const t = Math.floor(nowMs / 1000);
  if (c.iat > t + p.clockSkewSeconds) throw new PropsError('ERR_CONSENT_NOT_YET_VALID');
  if (t >= c.exp + p.clockSkewSeconds) throw new PropsError('ERR_CONSENT_EXPIRED');
  if (!(p.usesSoFar < c.maxUses)) throw new PropsError('ERR_CONSENT_EXHAUSTED');
  return c;
}
