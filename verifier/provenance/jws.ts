// Shared JWS checking for the two JOSE-based kinds: explicit `typ`, algorithm allow-list, key chosen only by a pinned
// `kid`, then jose's signature check. Returns the verified payload bytes; never trusts a key carried in the header.
import { compactVerify, importJWK, type JWK } from 'jose';
import { decodeProtectedHeaderStrict, jsonOfUtf8, PropsError } from '../../protocol/index.ts';

/** A pinned public key as policy or evidence states it (optional members may be absent or undefined). */
export type TrustedJwk = {
  kid: string;
  alg: string;
  kty: string;
  crv?: string | undefined;
  x?: string | undefined;
  y?: string | undefined;
  n?: string | undefined;
  e?: string | undefined;
};

// Only public members are copied into the key handed to jose, so a private member can never be picked up.
function publicJwk(k: TrustedJwk): JWK {
  const out: JWK = { kty: k.kty };
  for (const m of ['crv', 'x', 'y', 'n', 'e'] as const) {
    const v = k[m];
    if (typeof v === 'string') out[m] = v;
  }
  return out;
}

export async function verifyPinnedJws(
  jws: string,
  typ: string,
  algorithms: readonly string[],
  keys: readonly TrustedJwk[],
): Promise<{ payload: Uint8Array; kid: string; alg: string }> {
  if (typeof jws !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(jws)) {
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'expected compact JWS' });
  }
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeaderStrict(jws);
  } catch (cause) {
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'JWS header', cause });
  }
  const { alg, kid } = header;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) throw new PropsError('ERR_PROVENANCE_ALG_NOT_ALLOWED');
  if (header.typ !== typ) throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'JWS typ' });
  // Keys embedded in the header (jwk, x5c, jku) are ignored by design: only the pinned set counts.
  if (typeof kid !== 'string') throw new PropsError('ERR_PROVENANCE_SIGNER_UNTRUSTED', { detail: 'no kid' });
  const jwk = keys.find((k) => k.kid === kid);
  if (!jwk) throw new PropsError('ERR_PROVENANCE_SIGNER_UNTRUSTED');
  // The pinned key fixes its algorithm: an ES256 key is never tried under another alg.
  if (jwk.alg !== alg)
    throw new PropsError('ERR_PROVENANCE_ALG_NOT_ALLOWED', { detail: 'alg differs from the pinned key' });
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(publicJwk(jwk), alg);
  } catch (cause) {
    throw new PropsError('ERR_PROVENANCE_POLICY_MALFORMED', { detail: 'pinned key does not import', cause });
  }
  try {
    const { payload } = await compactVerify(jws, key, { algorithms: [alg] });
    return { payload, kid, alg };
  } catch (cause) {
    throw new PropsError('ERR_PROVENANCE_SIGNATURE_INVALID', { cause });
  }
}

export function parsePayloadJson(payload: Uint8Array): unknown {
  try {
    // The JWS it came from is already size-bounded.
    return jsonOfUtf8(payload, payload.length);
  } catch (cause) {
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'payload is not JSON', cause });
  }
}
