// Canonical JSON (RFC 8785, JCS) for everything that is hashed or signed.
import canonicalizeModule from 'canonicalize';
import { utf8 } from './bytes.ts';
import { PropsError } from './errors.ts';

// The package is CommonJS whose typings claim an ES default export; under NodeNext the default import is the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** Serializes a JSON value canonically. Refuses values JSON cannot represent (undefined, NaN, Infinity, bigint). */
export function canonicalJson(value: unknown): string {
  // RFC 8785 serializes primitives exactly as ECMAScript's JSON.stringify does (§3.2.2) and differs from it only in
  // ordering object members by UTF-16 code units (§3.2.3). So a value whose members are already in that order is
  // its own canonical form under JSON.stringify: the statements the enclave signs per result are built that way,
  // and this path serializes them in a third of the time. Anything else goes through `canonicalize`.
  if (isPresorted(value, 0)) return JSON.stringify(value);
  assertJsonValue(value, 0);
  const out = canonicalize(value);
  if (typeof out !== 'string') throw new PropsError('ERR_CANONICAL_JSON');
  return out;
}

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalJson(value));
}

// True when JSON.stringify(v) is already v's RFC 8785 form: plain objects with members in code-unit order, arrays
// without holes, strings, booleans, null and finite numbers only. False sends the value to the general path (which
// also gives the coded refusals), never to a wrong answer.
function isPresorted(v: unknown, depth: number): boolean {
  if (depth > 64) return false; // the general path refuses it, as nesting too deep
  if (v === null) return true;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (!(i in v) || !isPresorted(v[i], depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  let previous: string | undefined;
  for (const key of Object.keys(v as object)) {
    if (previous !== undefined && !(previous < key)) return false;
    if (!isPresorted((v as Record<string, unknown>)[key], depth + 1)) return false;
    previous = key;
  }
  return true;
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
