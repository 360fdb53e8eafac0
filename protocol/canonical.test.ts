import { describe, expect, it } from 'vitest';
import canonicalizeModule from 'canonicalize';
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

  // RFC 8785 §3.2.2.2: lone surrogates have no UTF-8 form and must be refused, not written as \uXXXX escapes.
  describe('RFC 8785 lone surrogates', () => {
    const code = (v: unknown): string | undefined => {
      try {
        canonicalJson(v);
        return undefined;
      } catch (e) {
        return isPropsError(e) ? e.code : 'not coded';
      }
    };
    it.each([
      ['a lone high surrogate string (fast path)', '\ud800'],
      ['a lone low surrogate string (fast path)', 'x\udc00y'],
      ['a member name (fast path)', { '\uD83D': 1 }],
      ['a nested string (fast path)', { a: ['ok', '\ude00'] }],
      ['a string in unsorted members (library path)', { b: 1, a: '\ud800' }],
      ['a member name in unsorted members (library path)', { z: 1, '\uD83D': 1 }],
      ['a reversed pair (library path)', { b: 1, a: '\ude00\ud83d' }],
    ])('refuses %s with ERR_CANONICAL_JSON', (_, v) => {
      expect(code(v)).toBe('ERR_CANONICAL_JSON');
    });
    it('still serializes well-formed pairs, on both paths', () => {
      expect(canonicalJson({ a: '\ud83d\ude00' })).toBe('{"a":"😀"}');
      expect(canonicalJson({ b: 1, '\ud83d\ude00': '\ud83d\ude00' })).toBe('{"b":1,"😀":"😀"}');
    });
  });

  it('parseJsonText answers coded errors for oversized and malformed text', () => {
    expect(() => parseJsonText('x'.repeat(11), 10)).toThrow(expect.objectContaining({ code: 'ERR_INPUT_TOO_LARGE' }));
    expect(() => parseJsonText('{', 10)).toThrow(expect.objectContaining({ code: 'ERR_JSON_MALFORMED' }));
  });

  // canonicalJson serializes values whose members are already in code-unit order with JSON.stringify (RFC 8785
  // §3.2.2: JCS's primitives are ECMAScript's) and everything else with the `canonicalize` package. Both paths must
  // give the package's answer for every value, sorted or not.
  it("gives the canonicalize package's answer for random values, members sorted or not (fast path and general path)", () => {
    const canonicalize = canonicalizeModule as unknown as (v: unknown) => string;
    let seed = 0x9e3779b9;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed % n;
    };
    const strings = [
      '',
      'a',
      'B',
      '10',
      '9',
      '__proto__x',
      '\u20ac',
      '\ud83d\ude00',
      '\ud800',
      '"\\/\n\u0000',
      'é',
      '\ufb33',
      'z'.repeat(40),
    ];
    const numbers = [0, -0, 1, -1, 0.5, 1e21, 1e-7, 5e-324, 333333333.33333329, 9007199254740993, 1790000000];
    const value = (depth: number): unknown => {
      const kind = depth > 3 ? rnd(4) : rnd(6);
      if (kind === 0) return strings[rnd(strings.length)];
      if (kind === 1) return numbers[rnd(numbers.length)];
      if (kind === 2) return [true, false, null][rnd(3)];
      if (kind === 3) return strings[rnd(strings.length)];
      if (kind === 4) return Array.from({ length: rnd(4) }, () => value(depth + 1));
      const keys = Array.from({ length: rnd(6) }, () => strings[rnd(strings.length)] as string);
      if (rnd(2) === 0) keys.sort(); // half the objects arrive presorted
      const o: Record<string, unknown> = {};
      for (const k of keys) o[k] = value(depth + 1);
      return o;
    };
    let sorted = 0;
    for (let i = 0; i < 3000; i++) {
      const v = value(0);
      if (JSON.stringify(v) === canonicalize(v)) sorted++;
      // The package writes a lone surrogate out as an escape; RFC 8785 §3.2.2.2 (and canonicalJson) refuses it.
      if (JSON.stringify(v).includes('\\ud800')) {
        expect(() => canonicalJson(v)).toThrow(expect.objectContaining({ code: 'ERR_CANONICAL_JSON' }));
        continue;
      }
      expect(canonicalJson(v)).toBe(canonicalize(v));
    }
    expect(sorted).toBeGreaterThan(500); // both paths were exercised
    expect(sorted).toBeLessThan(2900);
  });

  it('refuses nesting past 64 levels on either path (ERR_CANONICAL_JSON), even when the members are sorted', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 65; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(expect.objectContaining({ code: 'ERR_CANONICAL_JSON' }));
    let ok: unknown = 1;
    for (let i = 0; i < 64; i++) ok = [ok];
    expect(canonicalJson(ok)).toBe(`${'['.repeat(64)}1${']'.repeat(64)}`);
  });

  it('integer-like keys (which objects enumerate first) still come out in code-unit order', () => {
    expect(canonicalJson({ 9: 'a', 10: 'b', x: 1 })).toBe('{"10":"b","9":"a","x":1}');
    expect(canonicalJson({ a: [1, { d: 1, c: 2 }], b: null })).toBe('{"a":[1,{"c":2,"d":1}],"b":null}');
  });

  it.each([[[1, , 2]], [{ a: 1, b: NaN }], [{ a: 1, b: () => 1 }], [{ a: { b: undefined } }], [{ a: [Infinity] }]])(
    'refuses presorted-looking %s with ERR_CANONICAL_JSON (the fast path never serializes what the general path refuses)',
    (v) => {
      expect(() => canonicalJson(v)).toThrow(expect.objectContaining({ code: 'ERR_CANONICAL_JSON' }));
    },
  );
});

// I-JSON (RFC 7493 §2.3): member names within an object are unique; JSON.parse would keep the last silently.
describe('Duplicate member names', () => {
  const dup = (text: string) => () => parseJsonText(text, 1 << 20);
  it.each([
    ['alg twice', '{"alg":"ES256","alg":"none"}'],
    ['kid twice', '{"alg":"ES256","kid":"a","typ":"x","kid":"b"}'],
    ['treeSize twice', '{"treeSize":1,"rootHash":"0x00","treeSize":2}'],
    ['a name and its escaped spelling', '{"a":1,"\\u0061":2}'],
    ['__proto__ twice', '{"__proto__":1,"__proto__":2}'],
    ['in a nested object', '{"x":[1,{"y":{"k":1,"k":1}}]}'],
    ['after strings holding colons, quotes and backslashes', '{"s":"a:b\\"c:\\\\","t":":","s":0}'],
    ['with whitespace', '{ "a" : 1 ,\n "a"\t: 2 }'],
  ])('parseJsonText refuses %s with ERR_JSON_DUPLICATE_KEY', (_, text) => {
    expect(dup(text)).toThrow(expect.objectContaining({ code: 'ERR_JSON_DUPLICATE_KEY' }));
  });

  it('accepts the same name in different objects, and colons, quotes and backslashes inside strings', () => {
    expect(parseJsonText('[{"a":1},{"a":2}]', 100)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(parseJsonText('{"a":{"a":{"a":":"}}}', 100)).toEqual({ a: { a: { a: ':' } } });
    expect(parseJsonText(String.raw`{"a\\":":\"","b":"\\\\"}`, 100)).toEqual({ 'a\\': ':"', b: '\\\\' });
    expect(parseJsonText('{"__proto__":1,"a":2}', 100)).toEqual(JSON.parse('{"__proto__":1,"a":2}'));
    expect(parseJsonText('"a:b"', 100)).toBe('a:b');
    expect(parseJsonText('{}', 100)).toEqual({});
  });

  it('walks nesting deeper than the call stack without throwing an uncoded error', () => {
    const depth = 100_000;
    const deep = `${'{"a":['.repeat(depth)}${']}'.repeat(depth)}`;
    expect(() => parseJsonText(deep, deep.length)).not.toThrow();
    const deepDup = `${'['.repeat(depth)}{"a":1,"a":1}${']'.repeat(depth)}`;
    expect(() => parseJsonText(deepDup, deepDup.length)).toThrow(
      expect.objectContaining({ code: 'ERR_JSON_DUPLICATE_KEY' }),
    );
  });

  it('accepts every random JSON value JSON.stringify writes (no false positive)', () => {
    let seed = 0x1234567;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed % n;
    };
    const names = ['a', 'b', ':', '"', '\\', 'a:"b"', '\u00e9', '__proto__', '1', '', '\n'];
    const gen = (depth: number): unknown => {
      const k = rnd(depth > 3 ? 3 : 6);
      if (k === 0) return names[rnd(names.length)];
      if (k === 1) return rnd(1000) - 500;
      if (k === 2) return rnd(2) === 0 ? null : true;
      if (k === 3) return Array.from({ length: rnd(4) }, () => gen(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = rnd(5); i > 0; i--)
        Object.defineProperty(o, names[rnd(names.length)] as string, {
          value: gen(depth + 1),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      return o;
    };
    for (let i = 0; i < 2000; i++) {
      const text = JSON.stringify(gen(0));
      expect(parseJsonText(text, 1 << 20)).toEqual(JSON.parse(text));
    }
  });
});
