// Canonical JSON (RFC 8785, JCS) for everything that is hashed or signed.
import canonicalizeModule from 'canonicalize';
import { PropsError } from './errors.ts';
import type { ResultBody } from './schemas.ts';

// The package is CommonJS whose typings claim an ES default export; under NodeNext the default import is the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** Serializes a JSON value canonically. Refuses values JSON cannot represent (undefined, NaN, Infinity, bigint). */
export function canonicalJson(value: unknown): string {
  assertJsonValue(value, 0);
  const out = canonicalize(value);
  if (typeof out !== 'string') throw new PropsError('ERR_CANONICAL_JSON');
  return out;
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

function assertJsonValue(v: unknown, depth: number): void {
  if (depth > 64) throw new PropsError('ERR_CANONICAL_JSON', { detail: 'nesting too deep' });
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new PropsError('ERR_CANONICAL_JSON', { detail: 'non-finite number' });
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) assertJsonValue(x, depth + 1);
    return;
  }
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new PropsError('ERR_CANONICAL_JSON', { detail: 'not a plain object' });
    }
    for (const x of Object.values(v as Record<string, unknown>)) {
      if (x === undefined) throw new PropsError('ERR_CANONICAL_JSON', { detail: 'undefined member' });
      assertJsonValue(x, depth + 1);
    }
    return;
  }
  throw new PropsError('ERR_CANONICAL_JSON', { detail: `unsupported type ${typeof v}` });
}

/** Parses JSON text with a size limit; answers coded errors instead of SyntaxError. */
export function parseJsonText(text: string, maxBytes: number): unknown {
  if (text.length > maxBytes) throw new PropsError('ERR_INPUT_TOO_LARGE', { detail: `over ${maxBytes} bytes` });
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new PropsError('ERR_JSON_MALFORMED', { cause });
  }
}

// The result statement is canonicalized once per scored result: its shape is fixed by the strict schema, so its
// RFC 8785 form is written with the member order precomputed (7.4 → ~1.5 µs here). Anything not exactly that shape
// goes through the general serializer; canonical.test.ts checks both agree on random bodies.
const RESULT_KEYS = ['v', 'typ', 'platform', 'requestId', 'nonce', 'consentRef', 'output', 'inputCommitment', 'manifestHash', 'pipelineId', 'modelHash', 'evidenceDigest', 'executionProvider', 'iat', 'exp'].sort();
const OUTPUT_KEYS = ['score', 'decision', 'threshold', 'reasonCodes'].sort();
const RESULT_KEY_SET = new Set(RESULT_KEYS);
const encoder = new TextEncoder();

function fastScalar(v: unknown): string | undefined {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return undefined;
}

function fastResultJson(body: Record<string, unknown>): string | undefined {
  const keys = Object.keys(body);
  if (keys.length !== RESULT_KEYS.length || !keys.every((k) => RESULT_KEY_SET.has(k))) return undefined;
  const output = body.output as Record<string, unknown> | null;
  if (typeof output !== 'object' || output === null || Array.isArray(output) || Object.getPrototypeOf(output) !== Object.prototype) return undefined;
  if (Object.keys(output).length !== OUTPUT_KEYS.length) return undefined;
  let out = '{';
  for (const k of RESULT_KEYS) {
    let v: string | undefined;
    if (k === 'output') {
      v = '{';
      for (const ok of OUTPUT_KEYS) {
        const x = output[ok];
        let w: string | undefined;
        if (Array.isArray(x)) {
          const parts = x.map(fastScalar);
          if (parts.some((p) => p === undefined)) return undefined;
          w = `[${parts.join(',')}]`;
        } else w = fastScalar(x);
        if (w === undefined) return undefined;
        v += `${v.length > 1 ? ',' : ''}"${ok}":${w}`;
      }
      v += '}';
    } else v = fastScalar(body[k]);
    if (v === undefined) return undefined;
    out += `${out.length > 1 ? ',' : ''}"${k}":${v}`;
  }
  return `${out}}`;
}

/** RFC 8785 bytes of a result statement (the same as `canonicalBytes(body)`, faster for the schema's shape). */
export function canonicalResultBytes(body: ResultBody): Uint8Array {
  if (typeof body === 'object' && body !== null && Object.getPrototypeOf(body) === Object.prototype) {
    const fast = fastResultJson(body as unknown as Record<string, unknown>);
    if (fast !== undefined) return encoder.encode(fast);
  }
  return canonicalBytes(body);
}
