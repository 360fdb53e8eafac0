import { describe, expect, it } from 'vitest';
import { canonicalJson, parseJsonText } from './canonical.ts';
import { isPropsError } from './errors.ts';

// Examples from RFC 8785 (JSON Canonicalization Scheme).
describe('canonicalJson (RFC 8785)', () => {
  it('serializes the RFC 8785 §3.2.2 sample to its published canonical form', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        '"literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts properties by UTF-16 code units (RFC 8785 §3.2.3)', () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",' +
        '"\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    );
    const keys = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // JSON.parse re-orders integer-like keys, so compare the serialized order directly.
    const serialized = canonicalJson(input);
    const order = ['\\r', '1', '\u0080', 'ö', '€', '😀', '\ufb33'].map((k) => serialized.indexOf(`"${k}"`));
    expect(order.every((v, i) => i === 0 || v > (order[i - 1] ?? -1))).toBe(true);
    expect(keys).toHaveLength(7);
  });

  it.each([
    [0, '0'],
    [-0, '0'],
    [5e-324, '5e-324'],
    [-5e-324, '-5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [9007199254740992, '9007199254740992'],
    [-9007199254740992, '-9007199254740992'],
    [295147905179352830000, '295147905179352830000'],
    [9.999999999999997e22, '9.999999999999997e+22'],
    [1e23, '1e+23'],
    [0.000001, '0.000001'],
    [1e-7, '1e-7'],
  ])('serializes the IEEE-754 number %s as %s (RFC 8785 Appendix B)', (n, s) => {
    expect(canonicalJson(n)).toBe(s);
  });

  it.each([[NaN], [Infinity], [undefined], [{ a: undefined }], [10n], [new Date(0)]])(
    'refuses %s with ERR_CANONICAL_JSON',
    (v) => {
      try {
        canonicalJson(v);
        expect.unreachable();
      } catch (e) {
        expect(isPropsError(e, 'ERR_CANONICAL_JSON')).toBe(true);
      }
    },
  );

  it('parseJsonText answers coded errors for oversized and malformed text', () => {
    expect(() => parseJsonText('x'.repeat(11), 10)).toThrow(expect.objectContaining({ code: 'ERR_INPUT_TOO_LARGE' }));
    expect(() => parseJsonText('{', 10)).toThrow(expect.objectContaining({ code: 'ERR_JSON_MALFORMED' }));
  });
});
