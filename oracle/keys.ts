// The data owner's signing key (ES256): signs consents; its public half travels in submissions so the enclave can
// tie a consent to the records it covers. Stored as a small versioned JSON file.
import { z } from 'zod';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { jwkThumbprint, parseWith, publicJwk, type PublicJwk } from '../protocol/index.ts';

export const OWNER_KEY_VERSION = 1;
const ownerKeyFile = z.strictObject({
  version: z.literal(OWNER_KEY_VERSION),
  kind: z.literal('props-owner-key'),
  publicJwk,
  privateJwk: z.record(z.string(), z.string()),
});
export type OwnerKeyFile = z.infer<typeof ownerKeyFile>;
export type OwnerKey = { publicJwk: PublicJwk; privateKey: CryptoKey };

export async function generateOwnerKey(): Promise<{ key: OwnerKey; file: OwnerKeyFile }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pub = await exportJWK(publicKey);
  const base = { kty: 'EC' as const, crv: 'P-256' as const, x: pub.x as string, y: pub.y as string };
  const publicJwkValue: PublicJwk = {
    ...base,
    kid: jwkThumbprint({ ...base, kid: 'x', alg: 'ES256', use: 'sig' }),
    alg: 'ES256',
    use: 'sig',
  };
  const priv = (await exportJWK(privateKey)) as Record<string, string>;
  return {
    key: { publicJwk: publicJwkValue, privateKey: privateKey as CryptoKey },
    file: { version: OWNER_KEY_VERSION, kind: 'props-owner-key', publicJwk: publicJwkValue, privateJwk: priv },
  };
}

export async function loadOwnerKey(input: unknown): Promise<OwnerKey> {
  const f = parseWith(ownerKeyFile, input, 'ERR_INPUT_MALFORMED');
  const privateKey = (await importJWK(f.privateJwk as JWK, 'ES256')) as CryptoKey;
  return { publicJwk: f.publicJwk, privateKey };
}
