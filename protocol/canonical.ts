// Canonical JSON (RFC 8785, JCS) for everything that is hashed or signed.
import canonicalizeModule from 'canonicalize';
import { PropsError } from './errors.ts';

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
