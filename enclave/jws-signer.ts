// The shape of the enclave's JWS signing capability as the fetcher and ingest use it. The enclave's own key module
// (enclave/keys.ts, enclave/sign.ts) supplies the real one; `joseJwsSigner` adapts any jose key, for tests and sims.
import { CompactSign, type CryptoKey, type KeyObject } from 'jose';

/** Signs `payload` as a compact JWS whose protected header carries `typ` (and the signer's own `alg` and `kid`). */
export type JwsSigner = (payload: Uint8Array, header: { typ: string }) => Promise<string>;

export function joseJwsSigner(key: CryptoKey | KeyObject, kid: string, alg: 'ES256' | 'EdDSA' = 'ES256'): JwsSigner {
  return (payload, { typ }) => new CompactSign(payload).setProtectedHeader({ alg, typ, kid }).sign(key);
}
