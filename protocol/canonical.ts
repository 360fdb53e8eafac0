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
      return isWellFormed(v);
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
    if (!isWellFormed(key)) return false;
    if (!isPresorted((v as Record<string, unknown>)[key], depth + 1)) return false;
    previous = key;
  }
  return true;
}

// RFC 8785 §3.2.2.2: a string (or member name) holding a lone surrogate has no UTF-8 form and must be refused, where
// JSON.stringify and `canonicalize` would write it out as a \uXXXX escape. String.prototype.isWellFormed is ES2024:
// present in every runtime we support (Node ≥ 20, current browsers) but not in the ES2023 lib we compile against.
function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

function assertJsonValue(v: unknown, depth: number): void {
  if (depth > 64) throw new PropsError('ERR_CANONICAL_JSON', { detail: 'nesting too deep' });
  if (v === null || typeof v === 'boolean') return;
  if (typeof v === 'string') {
    if (!isWellFormed(v)) throw new PropsError('ERR_CANONICAL_JSON', { detail: 'lone surrogate in a string' });
    return;
  }
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
    for (const [key, x] of Object.entries(v as Record<string, unknown>)) {
      if (!isWellFormed(key)) throw new PropsError('ERR_CANONICAL_JSON', { detail: 'lone surrogate in a member name' });
      if (x === undefined) throw new PropsError('ERR_CANONICAL_JSON', { detail: 'undefined member' });
      assertJsonValue(x, depth + 1);
    }
    return;
  }
  throw new PropsError('ERR_CANONICAL_JSON', { detail: `unsupported type ${typeof v}` });
}

/**
 * Parses JSON text with a size limit; answers coded errors instead of SyntaxError. Refuses duplicate member names
 * (I-JSON, RFC 7493 §2.3), which JSON.parse would resolve silently to the last one — so that two readers of the same
 * signed or hashed text can never see two different values.
 */
export function parseJsonText(text: string, maxBytes: number): unknown {
  if (text.length > maxBytes) throw new PropsError('ERR_INPUT_TOO_LARGE', { detail: `over ${maxBytes} bytes` });
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (cause) {
    throw new PropsError('ERR_JSON_MALFORMED', { cause });
  }
  if (typeof value === 'object' && value !== null && memberCount(value) !== nameSeparatorCount(text)) {
    throw new PropsError('ERR_JSON_DUPLICATE_KEY');
  }
  return value;
}

// Duplicates are found by counting rather than by keeping sets of names: in text JSON.parse accepted, every ':'
// outside a string separates one member, while the parsed objects hold one property per distinct name. The two
// counts differ exactly when some object repeats a name (however it is escaped, as JSON.parse compares decoded names).

// Members of every object in a parsed value; iterative, since JSON.parse accepts nesting deeper than the call stack.
function memberCount(root: object): number {
  let n = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object' && x !== null) stack.push(x);
      continue;
    }
    for (const key in v) {
      n++;
      const x = (v as Record<string, unknown>)[key];
      if (typeof x === 'object' && x !== null) stack.push(x);
    }
  }
  return n;
}

// Name separators (':' outside strings) of text that is valid JSON.
function nameSeparatorCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a) n++;
    else if (c === 0x22) i = closingQuote(text, i);
  }
  return n;
}

// Index of the quote closing the string opened at `open`: the next quote preceded by an even run of backslashes.
function closingQuote(text: string, open: number): number {
  let q = text.indexOf('"', open + 1);
  for (;;) {
    let b = q - 1;
    while (text.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    q = text.indexOf('"', q + 1);
  }
}
