// The shape of the enclave's JWS signing capability as the fetcher and ingest use it. The enclave's own key module
// (enclave/keys.ts, enclave/sign.ts) supplies the real one; `joseJwsSigner` adapts any jose key, for tests and sims.
import { sign as nodeSign, type KeyObject as NodeKeyObject } from 'node:crypto';
import { CompactSign, type CryptoKey, type KeyObject } from 'jose';

/** Signs `payload` as a compact JWS whose protected header carries `typ` (and the signer's own `alg` and `kid`). */
export type JwsSigner = (payload: Uint8Array, header: { typ: string }) => Promise<string>;

export function joseJwsSigner(key: CryptoKey | KeyObject, kid: string, alg: 'ES256' | 'EdDSA' = 'ES256'): JwsSigner {
  return (payload, { typ }) => new CompactSign(payload).setProtectedHeader({ alg, typ, kid }).sign(key);
}

const b64url = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

/**
 * ES256 straight through node:crypto (JWS §3.4: r||s, 64 bytes). jose 6 signs through WebCrypto, which in Node 20
 * takes ~2.3× as long per signature (on the libuv pool); the enclave signs every result, batch head, tree head,
 * receipt and attested fetch with this one (`Enclave.signJws`).
 */
export function nodeEs256Signer(key: NodeKeyObject, kid: string): JwsSigner {
  if (
    key.type !== 'private' ||
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new TypeError('nodeEs256Signer: expected a P-256 private key');
  }
  // The protected header depends only on `typ` (a handful of them): encoded once each.
  const headers = new Map<string, string>();
  return async (payload, { typ }) => {
    let header = headers.get(typ);
    if (header === undefined) {
      header = b64url(JSON.stringify({ alg: 'ES256', typ, kid }));
      if (headers.size < 64) headers.set(typ, header);
    }
    const input = `${header}.${b64url(payload)}`;
    const sig = nodeSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  };
}
