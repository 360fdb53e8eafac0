// JOSE JSON read through parseJsonText: duplicate member names in a protected header or payload are refused.
import { base64url, CompactSign, decodeProtectedHeader, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { findPropsError } from './errors.ts';
import { decodeProtectedHeaderStrict, jsonOfUtf8 } from './jose-json.ts';

const b64 = (s: string) => base64url.encode(new TextEncoder().encode(s));
const token = (header: string, payload = '{}') => `${b64(header)}.${b64(payload)}.c2ln`;
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return findPropsError(e)?.code ?? 'not coded';
  }
};

describe('Duplicate member names in JOSE headers and payloads', () => {
  it.each([
    ['alg twice', '{"alg":"ES256","alg":"none"}'],
    ['kid twice', '{"alg":"ES256","kid":"pinned","kid":"other"}'],
    ['typ twice, escaped', '{"typ":"a","\\u0074yp":"b"}'],
  ])('decodeProtectedHeaderStrict refuses %s (ERR_JSON_DUPLICATE_KEY) where jose keeps the last', (_, header) => {
    expect(() => decodeProtectedHeader(token(header))).not.toThrow();
    expect(codeOf(() => decodeProtectedHeaderStrict(token(header)))).toBe('ERR_JSON_DUPLICATE_KEY');
  });

  it('reads what jose reads for a real JWS, and refuses what is not a header', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const jws = await new CompactSign(new TextEncoder().encode('{"a":1}'))
      .setProtectedHeader({ alg: 'ES256', kid: 'k', typ: 't' })
      .sign(privateKey);
    expect(decodeProtectedHeaderStrict(jws)).toEqual(decodeProtectedHeader(jws));
    expect(codeOf(() => decodeProtectedHeaderStrict(token('[1]')))).toBe('ERR_JSON_MALFORMED');
    expect(codeOf(() => decodeProtectedHeaderStrict(token('{"a":')))).toBe('ERR_JSON_MALFORMED');
    expect(codeOf(() => decodeProtectedHeaderStrict('.e30.'))).toBe('ERR_JSON_MALFORMED');
    expect(codeOf(() => decodeProtectedHeaderStrict(`${b64('{"a":1}').slice(0, -1)}\u00ff.e30.`))).toBe(
      'ERR_JSON_MALFORMED',
    );
  });

  it('jsonOfUtf8 refuses a payload with treeSize twice, invalid UTF-8 and oversize', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(codeOf(() => jsonOfUtf8(enc('{"treeSize":1,"treeSize":2}'), 100))).toBe('ERR_JSON_DUPLICATE_KEY');
    expect(codeOf(() => jsonOfUtf8(new Uint8Array([0x7b, 0xff, 0x7d]), 100))).toBe('ERR_JSON_MALFORMED');
    expect(codeOf(() => jsonOfUtf8(enc('{"a":1}'), 3))).toBe('ERR_INPUT_TOO_LARGE');
    expect(jsonOfUtf8(enc('{"treeSize":1}'), 100)).toEqual({ treeSize: 1 });
  });
});
