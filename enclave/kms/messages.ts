// The signed and encrypted messages of key release: the asker's request (a JWS by its evidence-bound key) and the
// KMS's release (a JWS by the KMS's evidence-bound key, inside a JWE to the asker's attested release key). Each
// opener checks the header before the cryptography and parses the payload strictly.
import type { KeyObject } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, compactVerify, importJWK, type JWK } from 'jose';
import {
  canonicalBytes,
  KMS_TYP,
  decodeProtectedHeaderStrict,
  parseJsonText,
  parseWith,
  PropsError,
  releaseClaims,
  releaseRequestClaims,
  type ErrorCode,
  type PublicJwk,
  type ReleaseClaims,
  type ReleaseRequestClaims,
} from '../../protocol/index.ts';
import type { JwsSigner } from '../jws-signer.ts';

const MAX_PAYLOAD = 16_384;

async function verifyJws(jws: string, key: PublicJwk, typ: string, code: ErrorCode): Promise<unknown> {
  try {
    const header = decodeProtectedHeaderStrict(jws);
    if (header.alg !== 'ES256' || header.typ !== typ || header.kid !== key.kid || header.crit !== undefined)
      throw new Error('header');
    const { payload } = await compactVerify(jws, await importJWK({ ...key } as JWK, 'ES256'), {
      algorithms: ['ES256'],
    });
    return parseJsonText(new TextDecoder().decode(payload), MAX_PAYLOAD);
  } catch (cause) {
    throw new PropsError(code, { cause });
  }
}

export const signRequest = (sign: JwsSigner, claims: ReleaseRequestClaims): Promise<string> =>
  sign(canonicalBytes(claims), { typ: KMS_TYP.request });

/** The request's claims, if `jws` is signed by `key` (the asker's evidence-bound JWS key). */
export async function openRequest(jws: string, key: PublicJwk): Promise<ReleaseRequestClaims> {
  const payload = await verifyJws(jws, key, KMS_TYP.request, 'ERR_KMS_REQUEST_SIGNATURE');
  return parseWith(releaseRequestClaims, payload, 'ERR_KMS_REQUEST_SIGNATURE');
}

/** The release: the claims signed by the KMS, encrypted (ECDH-ES, A256GCM) to the asker's release key. */
export async function sealRelease(sign: JwsSigner, claims: ReleaseClaims, to: PublicJwk): Promise<string> {
  const jws = await sign(canonicalBytes(claims), { typ: KMS_TYP.release });
  return new CompactEncrypt(new TextEncoder().encode(jws))
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', typ: KMS_TYP.releaseJwe, kid: to.kid })
    .encrypt(await importJWK({ kty: to.kty, crv: to.crv, x: to.x, y: to.y } as JWK, 'ECDH-ES'));
}

/** The release's claims, if it opens with `releaseKey` and is signed by `kmsKey` (the KMS's evidence-bound key). */
export async function openRelease(jwe: string, releaseKey: KeyObject, kmsKey: PublicJwk): Promise<ReleaseClaims> {
  let jws: string;
  try {
    const header = decodeProtectedHeaderStrict(jwe);
    if (header.typ !== KMS_TYP.releaseJwe || header.zip !== undefined || header.crit !== undefined)
      throw new Error('header');
    const { plaintext } = await compactDecrypt(jwe, releaseKey, {
      keyManagementAlgorithms: ['ECDH-ES'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    jws = new TextDecoder().decode(plaintext);
  } catch (cause) {
    throw new PropsError('ERR_KMS_RELEASE_UNREADABLE', { cause });
  }
  const payload = await verifyJws(jws, kmsKey, KMS_TYP.release, 'ERR_KMS_RELEASE_SIGNATURE');
  return parseWith(releaseClaims, payload, 'ERR_KMS_ANSWER_MALFORMED');
}
