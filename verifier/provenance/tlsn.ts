// TLSNotary presentations (tlsn 0.1.0-alpha.12): the wasm verifier from tlsn-js checks the notary signature, the
// server certificate (Mozilla roots, at connection time) and the transcript commitments; this module adds what it
// does not: a pinned notary key, an exact host, freshness, size limits, and reading data only from revealed ranges.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fromHex, hostName, PropsError, sha256, statement, toHex, type Hex } from '../../protocol/index.ts';
import { checkFreshness, checkHost, type ProvenancePolicy } from './policy.ts';
import {
  isoFromSeconds,
  provenanceDigest,
  type ProvenanceVerdict,
  type RevealedRange,
  type VerifyProvenanceOptions,
} from './types.ts';

type Range = { start: number; end: number };
type VerifyOutput = {
  server_name: string;
  connection_info: { time: number; version: string; transcript_length: { sent: number; recv: number } };
  transcript?: { sent: number[]; recv: number[]; sent_authed: Range[]; recv_authed: Range[] };
};
type WasmPresentation = {
  verifying_key(): { alg: number; data: number[] };
  verify(): VerifyOutput;
  free(): void;
};
type TlsnWasm = {
  initSync(opts: { module: Uint8Array | WebAssembly.Module }): unknown;
  Presentation: { deserialize(bytes: Uint8Array): WasmPresentation };
};

// tlsn's key algorithm id for secp256k1 (K256), the only notary key type this format uses.
const KEY_ALG_K256 = 1;

let wasmPromise: Promise<TlsnWasm> | undefined;

/** Loads and instantiates the tlsn wasm once per process (about 30 ms); later calls share it. */
export function loadTlsnWasm(): Promise<TlsnWasm> {
  wasmPromise ??= (async () => {
    // The wasm-bindgen glue expects a browser-ish global while it starts; verify() needs neither afterwards, so both
    // are removed again and other libraries never mistake Node for a browser worker.
    const g = globalThis as Record<string, unknown>;
    const added = (['self', 'addEventListener'] as const).filter((k) => !(k in g));
    g.self ??= globalThis;
    g.addEventListener ??= () => {};
    try {
      const require = createRequire(import.meta.url);
      const mod = (await import('tlsn-js/build/tlsn_wasm.js' as string)) as TlsnWasm;
      mod.initSync({
        module: new WebAssembly.Module(readFileSync(require.resolve('tlsn-js/build/tlsn_wasm_bg.wasm'))),
      });
      return mod;
    } finally {
      for (const k of added) delete g[k];
    }
  })();
  // A failed load is not cached: the next call tries again rather than failing forever.
  wasmPromise.catch(() => {
    wasmPromise = undefined;
  });
  return wasmPromise;
}

/** Accepts the fixture form (hex text, optional 0x, whitespace) and returns presentation bytes. */
export function presentationBytes(input: string | Uint8Array): Uint8Array {
  if (input instanceof Uint8Array) return input;
  const hex = input.trim();
  if (!/^(0x)?([0-9a-fA-F]{2})+$/.test(hex))
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'presentation hex' });
  return fromHex(hex.toLowerCase());
}

export async function verifyTlsn(
  input: string | Uint8Array,
  opts: VerifyProvenanceOptions,
): Promise<ProvenanceVerdict> {
  const { policy, now } = opts;
  const bytes = presentationBytes(input);
  // A presentation carries the revealed transcript plus fixed-size proofs; refuse absurd inputs before the wasm sees them.
  if (bytes.length > policy.maxTranscriptBytes * 4 + 64 * 1024)
    throw new PropsError('ERR_PROVENANCE_TRANSCRIPT_TOO_LARGE');
  const wasm = await loadTlsnWasm();
  let p: WasmPresentation;
  try {
    p = wasm.Presentation.deserialize(bytes);
  } catch (cause) {
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'presentation does not deserialize', cause });
  }
  try {
    const signer = checkNotary(policy, p.verifying_key());
    let out: VerifyOutput;
    try {
      out = p.verify();
    } catch (cause) {
      const msg = String(cause);
      if (/server identity|certificate/i.test(msg))
        throw new PropsError('ERR_PROVENANCE_CERT_CHAIN_INVALID', { cause });
      // Anything else (signature, commitments, transcript proofs) means the bytes are not authenticated: fail closed.
      throw new PropsError('ERR_PROVENANCE_SIGNATURE_INVALID', { cause });
    }
    return readVerified(out, signer, toHex(sha256(bytes)), policy, now);
  } finally {
    p.free();
  }
}

function checkNotary(policy: ProvenancePolicy, vk: { alg: number; data: number[] }): Hex {
  if (vk.alg !== KEY_ALG_K256 || vk.data.length !== 33)
    throw new PropsError('ERR_PROVENANCE_NOTARY_UNTRUSTED', { detail: 'key type' });
  const key = toHex(Uint8Array.from(vk.data));
  if (!policy.tlsn.notaryKeys.includes(key)) throw new PropsError('ERR_PROVENANCE_NOTARY_UNTRUSTED');
  return key;
}

function readVerified(
  out: VerifyOutput,
  signer: Hex,
  proofDigest: Hex,
  policy: ProvenancePolicy,
  now: Date,
): ProvenanceVerdict {
  const t = out.transcript;
  const len = out.connection_info?.transcript_length;
  if (!t || !len) throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'no transcript disclosed' });
  if (len.sent + len.recv > policy.maxTranscriptBytes) throw new PropsError('ERR_PROVENANCE_TRANSCRIPT_TOO_LARGE');
  if (t.sent.length !== len.sent || t.recv.length !== len.recv)
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'transcript length' });

  // server_name is what the notary's certificate check bound; it must be a plain host equal to a policy entry —
  // a wildcard certificate that also covers another name never widens what the policy allows.
  const parsedHost = hostName.safeParse(out.server_name);
  if (!parsedHost.success)
    throw new PropsError('ERR_PROVENANCE_HOST_NOT_ALLOWED', { detail: 'server name is not a plain host' });
  checkHost(policy.tlsn.hosts, parsedHost.data);
  checkFreshness(policy, out.connection_info.time, now);

  const sent = Uint8Array.from(t.sent);
  const recv = Uint8Array.from(t.recv);
  const sentRanges = normalizeRanges(t.sent_authed, sent.length);
  const recvRanges = normalizeRanges(t.recv_authed, recv.length);
  const revealed: RevealedRange[] = [
    ...sentRanges.map((r) => ({ direction: 'sent' as const, start: r.start, bytes: sent.slice(r.start, r.end) })),
    ...recvRanges.map((r) => ({ direction: 'received' as const, start: r.start, bytes: recv.slice(r.start, r.end) })),
  ];
  const base = {
    kind: 'tlsn' as const,
    signer,
    host: parsedHost.data,
    time: isoFromSeconds(out.connection_info.time),
    revealed,
  };
  const body = httpBody(recv, recvRanges);
  // A statement is read only from a successful response: an error page of an allowed host (or one echoing what the
  // prover sent it) is never a certified statement, whatever its body parses as.
  const verdict: Omit<ProvenanceVerdict, 'digest'> =
    body === undefined ? base : { ...base, body, ...(isHttpOk(recv) ? statementOf(body) : {}) };
  return { ...verdict, digest: provenanceDigest(verdict, proofDigest) };
}

/** Sorted, in-bounds, non-overlapping ranges, or the presentation is malformed. */
function normalizeRanges(ranges: Range[], length: number): Range[] {
  const out = ranges.map((r) => ({ start: r.start, end: r.end })).sort((a, b) => a.start - b.start);
  let prev = 0;
  for (const r of out) {
    if (
      !Number.isInteger(r.start) ||
      !Number.isInteger(r.end) ||
      r.start < prev ||
      r.end <= r.start ||
      r.end > length
    ) {
      throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'revealed range' });
    }
    prev = r.end;
  }
  return out;
}

/** True when every byte of [start, end) is authenticated. */
export function isRevealed(ranges: readonly Range[], start: number, end: number): boolean {
  let pos = start;
  for (const r of ranges) {
    if (r.end <= pos) continue;
    if (r.start > pos) return false;
    pos = r.end;
    if (pos >= end) return true;
  }
  return pos >= end;
}

/**
 * Reads [start, end) of a direction of a verified transcript, refusing if any byte there was redacted: redacted bytes
 * come back from the verifier as filler, and filler must never be read as data.
 */
export function readRevealed(
  v: ProvenanceVerdict,
  direction: 'sent' | 'received',
  start: number,
  end: number,
): Uint8Array {
  const ranges = v.revealed
    .filter((r) => r.direction === direction)
    .map((r) => ({ start: r.start, end: r.start + r.bytes.length }));
  if (end < start || !isRevealed(ranges, start, end)) throw new PropsError('ERR_PROVENANCE_REDACTED_BYTES');
  const out = new Uint8Array(end - start);
  for (const r of v.revealed) {
    if (r.direction !== direction) continue;
    const from = Math.max(start, r.start);
    const to = Math.min(end, r.start + r.bytes.length);
    if (to > from) out.set(r.bytes.subarray(from - r.start, to - r.start), from - start);
  }
  return out;
}

/** The certified response body, or a coded refusal when any of it (or of the headers that delimit it) was redacted. */
export function certifiedBody(v: ProvenanceVerdict): Uint8Array {
  if (v.body) return v.body;
  throw new PropsError('ERR_PROVENANCE_REDACTED_BYTES', { detail: 'response body not wholly revealed' });
}

const CRLFCRLF = [13, 10, 13, 10];
const HTTP_200 = /^HTTP\/1\.[01] 200 /;

/** Whether a received transcript starts with an HTTP/1.x 200 status line (the whole of it revealed, see httpBody). */
export function isHttpOk(recv: Uint8Array): boolean {
  return HTTP_200.test(new TextDecoder('latin1').decode(recv.subarray(0, 16)));
}

// The body starts after the first CRLFCRLF. A redacted run before it could hide an earlier terminator, so the body is
// only certified when everything from the status line to the end of the response is revealed.
function httpBody(recv: Uint8Array, ranges: Range[]): Uint8Array | undefined {
  let end = -1;
  for (let i = 0; i + 4 <= recv.length; i++) {
    if (CRLFCRLF.every((b, j) => recv[i + j] === b)) {
      end = i + 4;
      break;
    }
  }
  if (end < 0 || !isRevealed(ranges, 0, recv.length)) return undefined;
  return recv.slice(end);
}

function statementOf(
  body: Uint8Array,
): { statement: NonNullable<ProvenanceVerdict['statement']> } | Record<string, never> {
  try {
    const r = statement.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)));
    return r.success ? { statement: r.data } : {};
  } catch {
    return {};
  }
}
