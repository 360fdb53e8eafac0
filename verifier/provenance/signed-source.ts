// Signed-source proofs: the source signs its own records (compact JWS). Checked against a pinned JWKS and kid, the
// issuers that kid is pinned for, an asymmetric algorithm allow-list, and iat/exp freshness against the injected
// clock; the payload is a bank Statement.
import {
  canonicalBytes,
  parseWith,
  PropsError,
  sha256,
  SIGNED_SOURCE_JWS_TYP,
  signedSourcePayload,
  toHex,
  utf8,
} from '../../protocol/index.ts';
import { parsePayloadJson, verifyPinnedJws } from './jws.ts';
import { checkFreshness, checkHost } from './policy.ts';
import { isoFromSeconds, provenanceDigest, type ProvenanceVerdict, type VerifyProvenanceOptions } from './types.ts';

export async function verifySignedSource(jws: string, opts: VerifyProvenanceOptions): Promise<ProvenanceVerdict> {
  const { policy, now } = opts;
  const pol = policy.signedSource;
  const issuersOf = new Map(pol.kids.map((k) => [k.kid, k.issuers]));
  const keys = pol.jwks.keys.filter((k) => issuersOf.has(k.kid));
  const { payload, kid } = await verifyPinnedJws(jws, SIGNED_SOURCE_JWS_TYP, pol.algorithms, keys);
  const claims = parseWith(signedSourcePayload, parsePayloadJson(payload), 'ERR_PROVENANCE_MALFORMED');

  checkHost(pol.hosts, claims.iss);
  // Every pinned source is trusted for its own records only: bank A's key claiming iss bank B is impersonation.
  if (!issuersOf.get(kid)?.includes(claims.iss))
    throw new PropsError('ERR_PROVENANCE_ISSUER_MISMATCH', { detail: 'iss not pinned for the signing kid' });
  checkFreshness(policy, claims.iat, now);
  if (claims.exp <= claims.iat) throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'exp before iat' });
  if (Math.floor(now.getTime() / 1000) >= claims.exp)
    throw new PropsError('ERR_PROVENANCE_STALE', { detail: 'expired' });

  const records = canonicalBytes(claims.statement);
  const base = {
    kind: 'signed-source' as const,
    signer: kid,
    host: claims.iss,
    time: isoFromSeconds(claims.iat),
    revealed: [{ direction: 'received' as const, start: 0, bytes: records }],
    body: records,
    statement: claims.statement,
  };
  return { ...base, digest: provenanceDigest(base, toHex(sha256(utf8(jws)))) };
}
