// A consent grant: the data owner signs (ES256) that one lender may score the inputs behind one input commitment,
// for one purpose, until an expiry, at most N times. The enclave checks it with verifier/consent.ts.
import { CompactSign } from 'jose';
import {
  CONSENT_JWS_TYP,
  ORACLE_VERSION,
  PropsError,
  canonicalBytes,
  consentRef,
  jwkThumbprint,
  parseConsent,
  toHex,
  type Consent,
  type Hex,
} from '../protocol/index.ts';
import type { OracleDeps } from './encrypt.ts';
import type { OwnerKey } from './keys.ts';

export type GrantConsentParameters = {
  lender: string;
  purpose: Consent['purpose'];
  expiry: Date;
  maxUses: number;
  inputCommitment: Hex;
};

export async function grantConsent(
  p: GrantConsentParameters,
  owner: OwnerKey,
  deps: OracleDeps,
): Promise<{ consent: Consent; jws: string; ref: Hex }> {
  const iat = Math.floor(deps.now().getTime() / 1000);
  const exp = Math.floor(p.expiry.getTime() / 1000);
  if (!(exp > iat)) throw new PropsError('ERR_CONSENT_EXPIRED', { detail: 'expiry is not in the future' });
  const consent = parseConsent({
    v: ORACLE_VERSION,
    typ: 'props-consent',
    consentId: toHex((deps.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n))))(32)),
    owner: jwkThumbprint(owner.publicJwk),
    lender: p.lender,
    purpose: p.purpose,
    inputCommitment: p.inputCommitment,
    maxUses: p.maxUses,
    iat,
    exp,
  });
  const jws = await new CompactSign(canonicalBytes(consent))
    .setProtectedHeader({ alg: 'ES256', typ: CONSENT_JWS_TYP, kid: owner.publicJwk.kid })
    .sign(owner.privateKey);
  return { consent, jws, ref: consentRef(jws) };
}
