// The JSON inside JOSE objects (JWS and JWE protected headers, JWS payloads, JWE plaintexts) read through
// parseJsonText, so that a header or payload naming `alg`, `kid` or any claim twice is refused rather than read as
// whichever copy JSON.parse keeps — jose's own decoders use JSON.parse.
import { base64url } from 'jose';
import { parseJsonText } from './canonical.ts';
import { PropsError } from './errors.ts';

/** Longest protected header accepted, as JSON text (an ECDH-ES JWE header with its ephemeral key is a few hundred). */
export const MAX_PROTECTED_HEADER_BYTES = 8192;

/**
 * The protected header of a compact JWS or JWE, decoded without verifying anything — jose's decodeProtectedHeader,
 * but refusing duplicate member names (ERR_JSON_DUPLICATE_KEY) and invalid UTF-8; every other failure is
 * ERR_JSON_MALFORMED. Callers map both to their own codes; the cause keeps this one.
 */
export function decodeProtectedHeaderStrict(token: string): Record<string, unknown> {
  if (typeof token !== 'string') throw new PropsError('ERR_JSON_MALFORMED', { detail: 'token is not a string' });
  const dot = token.indexOf('.');
  if (dot <= 0) throw new PropsError('ERR_JSON_MALFORMED', { detail: 'no protected header' });
  if (dot > (MAX_PROTECTED_HEADER_BYTES * 4) / 3 + 4) throw new PropsError('ERR_INPUT_TOO_LARGE');
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(token.slice(0, dot));
  } catch (cause) {
    throw new PropsError('ERR_JSON_MALFORMED', { detail: 'protected header is not base64url', cause });
  }
  const header = jsonOfUtf8(bytes, MAX_PROTECTED_HEADER_BYTES);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new PropsError('ERR_JSON_MALFORMED', { detail: 'protected header is not an object' });
  }
  return header as Record<string, unknown>;
}

/** JSON from UTF-8 bytes (a verified JWS payload, a decrypted JWE plaintext) through parseJsonText. */
export function jsonOfUtf8(bytes: Uint8Array, maxBytes: number): unknown {
  if (bytes.length > maxBytes) throw new PropsError('ERR_INPUT_TOO_LARGE', { detail: `over ${maxBytes} bytes` });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new PropsError('ERR_JSON_MALFORMED', { detail: 'not UTF-8', cause });
  }
  return parseJsonText(text, maxBytes);
}
