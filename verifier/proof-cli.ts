// `props proof verify`: checks one provenance proof file alone against a trust anchor given on the command line (or a
// full provenance policy file) and prints a verdict. Exit 0 = verified, 1 = verification failed, 2 = usage/unreadable.
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { findPropsError, hostName, PropsError, type ErrorCode } from '../protocol/index.ts';
import {
  JWS_ALGORITHMS,
  parseProvenancePolicy,
  parseProvenancePolicyText,
  PROVENANCE_POLICY_VERSION,
  verifyAttestedFetch,
  verifyReclaim,
  verifySignedSource,
  verifyTlsn,
  type PinnedJwk,
  type ProvenancePolicy,
  type ProvenanceVerdict,
} from './provenance/index.ts';
import { NOW_FORMATS, parseNow } from './now.ts';

type Command = { summary: string; usage: string; run: (argv: string[]) => Promise<number> };

const CLI_KINDS = ['tlsn', 'reclaim', 'jws', 'attested-fetch'] as const;
type CliKind = (typeof CLI_KINDS)[number];

const MAX_FILE_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_AGE_S = 30 * 24 * 3600;
// Codes that mean "we could not even read what you gave us" rather than "it is not authentic".
const USAGE_CODES: readonly ErrorCode[] = [
  'ERR_USAGE',
  'ERR_NOW_INVALID',
  'ERR_FILE_UNREADABLE',
  'ERR_INPUT_TOO_LARGE',
  'ERR_JSON_MALFORMED',
  'ERR_JSON_DUPLICATE_KEY',
  'ERR_POLICY_MALFORMED',
  'ERR_PROVENANCE_POLICY_MALFORMED',
  'ERR_UNKNOWN_VERSION',
];

const USAGE = `usage: props proof verify FILE --kind tlsn|reclaim|jws|attested-fetch (--trust KEY_OR_ADDRESS... | --policy FILE)
                         [--host HOST] [--now ISO] [--max-age SECONDS] [--json]
  --trust   tlsn: notary public key (compressed SEC1 hex); reclaim: witness address;
            jws / attested-fetch: a JWK or JWKS (inline JSON or a file path). Repeatable.
  --host    the one host the proof must be for (exact match; default: any host, reported).
            Required for jws: the issuer every --trust key is pinned to sign for (more issuers: --policy FILE)
  --now     verification time (default: the current time): ${NOW_FORMATS}
  --max-age oldest acceptable proof (default 30 days)
exit: 0 verified, 1 verification failed, 2 usage or unreadable input`;

export type ProofCliResult = {
  ok: boolean;
  kind: string;
  signer: string | null;
  host?: string;
  time?: string;
  errors: { code: ErrorCode; message: string }[];
};

/** Runs `proof verify` and returns the exit code and the JSON verdict (the CLI prints it; tests call this directly). */
export async function runProofVerify(argv: string[]): Promise<{ exit: number; result: ProofCliResult; json: boolean }> {
  let kind = 'unknown';
  let json = argv.includes('--json');
  try {
    const { values, positionals } = parseArgsOrUsage(argv);
    json = values.json === true;
    if (positionals[0] !== 'verify' || positionals.length !== 2)
      throw new PropsError('ERR_USAGE', { detail: 'expected: verify FILE' });
    if (!values.kind || !(CLI_KINDS as readonly string[]).includes(values.kind))
      throw new PropsError('ERR_USAGE', { detail: '--kind' });
    kind = values.kind;
    const now = parseNow(values.now);
    const policy = await buildPolicy(kind as CliKind, values);
    const text = await readInput(positionals[1] as string);
    const verdict = await verifyFile(kind as CliKind, text, { policy, now });
    const result: ProofCliResult = {
      ok: true,
      kind,
      signer: verdict.signer,
      host: verdict.host,
      time: verdict.time,
      errors: [],
    };
    return { exit: 0, result, json };
  } catch (e) {
    const pe = findPropsError(e);
    if (!pe) throw e;
    const result: ProofCliResult = { ok: false, kind, signer: null, errors: [{ code: pe.code, message: pe.message }] };
    return { exit: USAGE_CODES.includes(pe.code) ? 2 : 1, result, json };
  }
}

export const proofCommand: Command = {
  summary: 'verify a provenance proof (TLSNotary, Reclaim, source JWS, attested fetch) against a trusted key',
  usage: USAGE,
  async run(argv) {
    const { exit, result, json } = await runProofVerify(argv);
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (result.ok)
      process.stdout.write(`ok ${result.kind} signer=${result.signer} host=${result.host} time=${result.time}\n`);
    else {
      for (const err of result.errors) process.stderr.write(`props proof: ${err.code}: ${err.message}\n`);
      if (exit === 2) process.stderr.write(`${USAGE}\n`);
    }
    return exit;
  },
};

function parseArgsOrUsage(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        kind: { type: 'string' },
        trust: { type: 'string', multiple: true },
        policy: { type: 'string' },
        host: { type: 'string' },
        now: { type: 'string' },
        'max-age': { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (cause) {
    // parseArgs names the refused option (never a value) on its first line.
    const named = cause instanceof Error ? cause.message.split('\n')[0]?.slice(0, 200) : undefined;
    throw new PropsError('ERR_USAGE', { detail: named || 'unknown or malformed option', cause });
  }
}

async function readInput(path: string): Promise<string> {
  try {
    const s = await stat(path);
    if (s.size > MAX_FILE_BYTES)
      throw new PropsError('ERR_INPUT_TOO_LARGE', { detail: `over ${MAX_FILE_BYTES} bytes` });
    return await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof PropsError) throw e;
    throw new PropsError('ERR_FILE_UNREADABLE', { cause: e });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new PropsError('ERR_JSON_MALFORMED', { cause });
  }
}

type Values = ReturnType<typeof parseArgsOrUsage>['values'];

async function buildPolicy(kind: CliKind, values: Values): Promise<ProvenancePolicy> {
  if (values.policy !== undefined) {
    if (values.trust !== undefined) throw new PropsError('ERR_USAGE', { detail: 'use --trust or --policy, not both' });
    return parseProvenancePolicyText(await readInput(values.policy));
  }
  const trust = values.trust ?? [];
  if (trust.length === 0) throw new PropsError('ERR_USAGE', { detail: '--trust is required' });
  // A source key is trusted only for the issuer it is pinned to; the CLI never guesses which that is.
  if (kind === 'jws' && values.host === undefined)
    throw new PropsError('ERR_USAGE', { detail: '--kind jws needs --host (the issuer the trusted keys sign for)' });
  let hosts: 'any' | string[] = 'any';
  if (values.host !== undefined) {
    const h = hostName.safeParse(values.host);
    if (!h.success) throw new PropsError('ERR_USAGE', { detail: '--host must be a plain lower-case host name' });
    hosts = [h.data];
  }
  let maxAge = DEFAULT_MAX_AGE_S;
  if (values['max-age'] !== undefined) {
    maxAge = Number(values['max-age']);
    if (!Number.isInteger(maxAge) || maxAge <= 0) throw new PropsError('ERR_USAGE', { detail: '--max-age' });
  }
  const none = { hosts: [] as string[] };
  const keys = kind === 'jws' || kind === 'attested-fetch' ? await trustedJwks(trust) : [];
  const algorithms = [...new Set(keys.map((k) => k.alg))];
  // The policy is built whole (every field present) and parsed like any policy file, so --trust values are checked.
  return parseProvenancePolicy({
    version: PROVENANCE_POLICY_VERSION,
    id: 'cli',
    maxAgeSeconds: maxAge,
    clockSkewSeconds: 300,
    maxTranscriptBytes: 1024 * 1024,
    tlsn: kind === 'tlsn' ? { hosts, notaryKeys: trust.map(normalizeNotaryKey) } : { ...none, notaryKeys: [] },
    reclaim: kind === 'reclaim' ? { hosts, witnesses: trust.map((t) => t.toLowerCase()) } : { ...none, witnesses: [] },
    signedSource:
      kind === 'jws'
        ? { hosts, algorithms, jwks: { keys }, kids: keys.map((k) => ({ kid: k.kid, issuers: hosts })) }
        : { ...none, algorithms: ['ES256'], jwks: { keys: [] }, kids: [] },
    attestedFetch:
      kind === 'attested-fetch'
        ? { hosts, algorithms: ['ES256'], enclaveKeys: keys, statuses: [200] }
        : { ...none, algorithms: ['ES256'], enclaveKeys: [], statuses: [200] },
  });
}

const normalizeNotaryKey = (t: string): string => (t.startsWith('0x') ? t : `0x${t}`).toLowerCase();

// --trust for JOSE kinds: inline JSON or a file, holding a JWK or a JWKS. A missing `alg` is inferred from the curve only.
async function trustedJwks(trust: string[]): Promise<PinnedJwk[]> {
  const out: PinnedJwk[] = [];
  for (const t of trust) {
    const text = t.trimStart().startsWith('{') ? t : await readInput(t);
    const v = parseJson(text) as { keys?: unknown[] } & Record<string, unknown>;
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new PropsError('ERR_PROVENANCE_POLICY_MALFORMED', { detail: 'trusted key: not a JWK or JWKS' });
    const list = Array.isArray(v.keys) ? v.keys : [v];
    for (const k of list) {
      if (typeof k !== 'object' || k === null || Array.isArray(k))
        throw new PropsError('ERR_PROVENANCE_POLICY_MALFORMED', { detail: 'trusted key: not a JWK' });
      const jwk = { ...(k as Record<string, unknown>) };
      if (jwk.alg === undefined)
        jwk.alg =
          jwk.crv === 'P-256' ? 'ES256' : jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'Ed25519' ? 'EdDSA' : undefined;
      if (!(JWS_ALGORITHMS as readonly unknown[]).includes(jwk.alg))
        throw new PropsError('ERR_PROVENANCE_POLICY_MALFORMED', { detail: 'trusted key alg' });
      out.push(jwk as PinnedJwk);
    }
  }
  return out;
}

async function verifyFile(
  kind: CliKind,
  text: string,
  opts: { policy: ProvenancePolicy; now: Date },
): Promise<ProvenanceVerdict> {
  const trimmed = text.trim();
  const envelope = trimmed.startsWith('{') ? (parseJson(trimmed) as Record<string, unknown>) : undefined;
  switch (kind) {
    case 'tlsn':
      return verifyTlsn(envelope ? String(envelope.presentation ?? '') : trimmed, opts);
    case 'reclaim':
      return verifyReclaim(envelope?.kind === 'reclaim' ? envelope.claim : (envelope ?? trimmed), opts);
    case 'jws':
      return verifySignedSource(envelope ? String(envelope.jws ?? '') : trimmed, opts);
    case 'attested-fetch': {
      if (!envelope) return verifyAttestedFetch({ jws: trimmed }, opts);
      const body = envelope.body;
      if (body !== undefined && typeof body !== 'string')
        throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'body' });
      return verifyAttestedFetch(
        body === undefined ? { jws: String(envelope.jws ?? '') } : { jws: String(envelope.jws ?? ''), body },
        opts,
      );
    }
  }
}
