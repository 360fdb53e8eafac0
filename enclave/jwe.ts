// Opening a compact JWE addressed to the enclave: every header check happens before any decryption, and nothing is
// remembered here — the caller records an id as seen only after the whole input has been accepted.
import { compactDecrypt, type CryptoKey, type KeyObject } from 'jose';
import {
  decodeProtectedHeaderStrict,
  JWE_CONTENT_ALG,
  JWE_HEADER,
  JWE_KEY_ALGS,
  jsonOfUtf8,
  MAX_SUBMISSION_BYTES,
  PropsError,
  type Hex,
} from '../protocol/index.ts';

export type OpenJweOptions = {
  /** `kid` of the enclave's attested encryption key. */
  expectedKid: string;
  /** `evidenceDigest` of this enclave's evidence: a JWE made after checking other evidence is misaddressed. */
  evidenceDigest: Hex;
  /** The JWE `typ` this entry point accepts (submission or fetch delegation). */
  typ: string;
  isSeen: (id: Hex) => boolean;
  maxBytes?: number;
};

const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const HEX32 = /^0x[0-9a-f]{64}$/;

export async function openEnclaveJwe(
  jwe: unknown,
  key: CryptoKey | KeyObject,
  opts: OpenJweOptions,
): Promise<{ id: Hex; plaintext: Uint8Array }> {
  const max = opts.maxBytes ?? MAX_SUBMISSION_BYTES;
  if (typeof jwe !== 'string') throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'not a string' });
  if (jwe.length > max) throw new PropsError('ERR_SUBMISSION_TOO_LARGE', { detail: `over ${max} bytes` });
  if (!COMPACT_JWE.test(jwe)) throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'not a compact JWE' });
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeaderStrict(jwe);
  } catch (cause) {
    throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'protected header', cause });
  }
  if (header.typ !== opts.typ) throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'typ' });
  if (!(JWE_KEY_ALGS as readonly unknown[]).includes(header.alg))
    throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'alg' });
  if (header.enc !== JWE_CONTENT_ALG) throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'enc' });
  if (header.zip !== undefined || header.crit !== undefined)
    throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'zip/crit' });
  if (header.kid !== opts.expectedKid) throw new PropsError('ERR_SUBMISSION_MISADDRESSED', { detail: 'kid' });
  if (header[JWE_HEADER.evidenceDigest] !== opts.evidenceDigest) {
    throw new PropsError('ERR_SUBMISSION_MISADDRESSED', { detail: JWE_HEADER.evidenceDigest });
  }
  const id = header[JWE_HEADER.id];
  if (typeof id !== 'string' || !HEX32.test(id))
    throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: JWE_HEADER.id });
  if (opts.isSeen(id as Hex)) throw new PropsError('ERR_SUBMISSION_REPLAYED');
  try {
    const { plaintext } = await compactDecrypt(jwe, key, {
      keyManagementAlgorithms: [...JWE_KEY_ALGS],
      contentEncryptionAlgorithms: [JWE_CONTENT_ALG],
    });
    return { id: id as Hex, plaintext };
  } catch {
    // No cause: jose's messages are safe, but a decryption failure says nothing more useful than "not for us".
    throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'does not decrypt' });
  }
}

/** JSON text from decrypted bytes, with coded failure. */
export function jsonFromPlaintext(plaintext: Uint8Array): unknown {
  try {
    // The JWE it came from is already size-bounded.
    return jsonOfUtf8(plaintext, plaintext.length);
  } catch (cause) {
    throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'plaintext is not JSON', cause });
  }
}
