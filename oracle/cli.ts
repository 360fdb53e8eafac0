// `props oracle …`: the data owner's command line — key, fetch with proof, check-then-encrypt, submit, consent.
// Tokens are read from an environment variable or a file (never argv, which other users can read), and never printed.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  PropsError,
  findPropsError,
  inputCommitment as computeInputCommitment,
  parseJsonText,
  parseWith,
  provenanceProof,
  hex32,
  type ErrorCode,
  type Hex,
  type ProvenanceProof,
} from '../protocol/index.ts';
import type { Command } from '../protocol/index.ts';
import { NOW_FORMATS, parseNow, parsePolicyText, verifyEvidence, type Policy } from '../verifier/index.ts';
import { checkEnclave, type CheckedEnclave, type VerifyEvidence } from './check.ts';
import { grantConsent } from './consent.ts';
import { delegateFetch, encryptSubmission } from './encrypt.ts';
import { generateOwnerKey, loadOwnerKey } from './keys.ts';
import { fetchSignedStatement, type Route } from './source.ts';
import { submit, verifyReceipt, type FetchLike } from './submit.ts';

export type OracleCliDeps = {
  /** Resolves the evidence verifier (the verifier part's `verifyEvidence`), injected in tests. */
  loadVerifyEvidence: () => Promise<VerifyEvidence>;
  fetch: FetchLike;
  now: () => Date;
  env: Record<string, string | undefined>;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
};

const MAX_FILE = 16 * 1024 * 1024;

export const defaultDeps = (): OracleCliDeps => ({
  loadVerifyEvidence: async () => verifyEvidence,
  fetch: (url, init) => fetch(url, init),
  now: () => new Date(),
  env: process.env,
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
});

// ---------------------------------------------------------------- helpers
async function readText(path: string): Promise<string> {
  try {
    const buf = await readFile(path);
    if (buf.length > MAX_FILE) throw new PropsError('ERR_INPUT_TOO_LARGE', { detail: path });
    return buf.toString('utf8');
  } catch (e) {
    if (e instanceof PropsError) throw e;
    throw new PropsError('ERR_FILE_UNREADABLE', { detail: path });
  }
}
const readJson = async (path: string): Promise<unknown> => parseJsonText(await readText(path), MAX_FILE);

async function writeOut(path: string, value: unknown, mode = 0o644): Promise<void> {
  try {
    // `mode` applies only to a file writeFile creates: an existing file (say a world-readable one) is narrowed
    // before the key or records go in.
    await chmod(path, mode).catch((e: { code?: string }) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await writeFile(path, typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`, { mode });
  } catch {
    throw new PropsError('ERR_FILE_UNREADABLE', { detail: `cannot write ${path}` });
  }
}

function usageError(detail: string): PropsError {
  return new PropsError('ERR_USAGE', { detail });
}

function need(v: string | undefined, name: string): string {
  if (v === undefined || v === '') throw usageError(`--${name} is required`);
  return v;
}

/** `--route host=address:port` (repeatable): where to connect for a host, instead of DNS and 443. */
function parseRoutes(list: string[] | undefined): Route | undefined {
  if (!list?.length) return undefined;
  const table = new Map<string, { address: string; port: number }>();
  for (const r of list) {
    const m = /^([a-z0-9.-]+)=([0-9a-f.:]+):(\d{1,5})$/i.exec(r);
    if (!m) throw usageError('--route must be host=address:port');
    table.set(m[1]!.toLowerCase(), { address: m[2]!, port: Number(m[3]) });
  }
  return (host) => table.get(host);
}

async function readToken(
  v: { 'token-env'?: string | undefined; 'token-file'?: string | undefined },
  deps: OracleCliDeps,
): Promise<string> {
  const token =
    v['token-file'] !== undefined
      ? (await readText(v['token-file'])).trim()
      : deps.env[v['token-env'] ?? 'PROPS_BANK_TOKEN']?.trim();
  if (!token) throw usageError('no bearer token: set PROPS_BANK_TOKEN (or --token-env NAME) or pass --token-file FILE');
  return token;
}

const enclaveOptions = {
  evidence: { type: 'string' },
  manifest: { type: 'string' },
  policy: { type: 'string' },
  now: { type: 'string' },
  'allow-simulated': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

async function checkedEnclaveFrom(
  v: {
    evidence?: string | undefined;
    manifest?: string | undefined;
    policy?: string | undefined;
    now?: string | undefined;
    'allow-simulated'?: boolean | undefined;
  },
  deps: OracleCliDeps,
): Promise<CheckedEnclave> {
  const evidence = await readJson(need(v.evidence, 'evidence'));
  const manifest = await readJson(need(v.manifest, 'manifest'));
  const policy: Policy = parsePolicyText(await readText(need(v.policy, 'policy')));
  const verifyEvidence = await deps.loadVerifyEvidence();
  return checkEnclave({
    evidence,
    manifest,
    policy,
    now: parseNow(v.now, deps.now),
    verifyEvidence,
    ...(v['allow-simulated'] ? { allowSimulated: true } : {}),
  });
}

async function readProofs(paths: string[] | undefined): Promise<ProvenanceProof[]> {
  if (!paths?.length) throw usageError('at least one --proof FILE is required');
  const out: ProvenanceProof[] = [];
  for (const p of paths) out.push(parseWith(provenanceProof, await readJson(p), 'ERR_PROVENANCE_MALFORMED'));
  return out;
}

// ---------------------------------------------------------------- sub-commands
type Sub = { summary: string; run: (argv: string[], deps: OracleCliDeps) => Promise<Record<string, unknown>> };

const subs: Record<string, Sub> = {
  keygen: {
    summary: 'make the data owner key (ES256): keygen --out FILE',
    async run(argv) {
      const { values: v } = parseArgs({
        args: argv,
        strict: true,
        options: { out: { type: 'string' }, json: { type: 'boolean' } },
      });
      const { file } = await generateOwnerKey();
      await writeOut(need(v.out, 'out'), file, 0o600);
      return { out: v.out, kid: file.publicJwk.kid };
    },
  },

  fetch: {
    summary:
      'fetch a source-signed statement: fetch --url URL --ca PEM [--route host=addr:port] [--token-env NAME|--token-file F] --out FILE',
    async run(argv, deps) {
      const { values: v } = parseArgs({
        args: argv,
        strict: true,
        options: {
          url: { type: 'string' },
          ca: { type: 'string', multiple: true },
          route: { type: 'string', multiple: true },
          'token-env': { type: 'string' },
          'token-file': { type: 'string' },
          out: { type: 'string' },
          json: { type: 'boolean' },
        },
      });
      const url = need(v.url, 'url');
      const out = need(v.out, 'out');
      const caPems = await Promise.all((v.ca ?? []).map(readText));
      const route = parseRoutes(v.route);
      const token = await readToken(v, deps);
      const { proof, payload } = await fetchSignedStatement({ url, token, caPems, ...(route ? { route } : {}) });
      await writeOut(out, proof, 0o600);
      return {
        out,
        kind: proof.kind,
        host: payload.iss,
        subject: payload.sub,
        iat: payload.iat,
        exp: payload.exp,
        transactions: payload.statement.transactions.length,
      };
    },
  },

  check: {
    summary: 'check an enclave against your policy: check --evidence E --manifest M --policy P [--now ISO]',
    async run(argv, deps) {
      const { values: v } = parseArgs({ args: argv, strict: true, options: enclaveOptions });
      const e = await checkedEnclaveFrom(v, deps);
      return {
        platform: e.evidence.platform,
        evidenceDigest: e.evidenceDigest,
        encryptionKid: e.encryptionKey.kid,
        checks: e.checks,
      };
    },
  },

  encrypt: {
    summary:
      'check the enclave, then encrypt proofs to it: encrypt --evidence E --manifest M --policy P --key OWNER --proof F… --out FILE',
    async run(argv, deps) {
      const { values: v } = parseArgs({
        args: argv,
        strict: true,
        options: {
          ...enclaveOptions,
          key: { type: 'string' },
          proof: { type: 'string', multiple: true },
          out: { type: 'string' },
        },
      });
      const out = need(v.out, 'out');
      const owner = await loadOwnerKey(await readJson(need(v.key, 'key')));
      const proofs = await readProofs(v.proof);
      const enclave = await checkedEnclaveFrom(v, deps); // refuses here, before anything is encrypted
      const s = await encryptSubmission({ proofs, owner: owner.publicJwk }, enclave, { now: deps.now });
      const envelope = {
        version: 1,
        kind: 'props-submission-envelope',
        jwe: s.jwe,
        submissionId: s.submissionId,
        evidenceDigest: enclave.evidenceDigest,
        inputCommitment: s.inputCommitment,
        jwsKey: enclave.jwsKey,
      };
      await writeOut(out, envelope);
      return {
        out,
        submissionId: s.submissionId,
        evidenceDigest: enclave.evidenceDigest,
        inputCommitment: s.inputCommitment,
        proofs: proofs.length,
      };
    },
  },

  submit: {
    summary:
      'check, encrypt, submit, verify the receipt: submit --evidence E --manifest M --policy P --key OWNER --proof F… --to URL --receipt-out FILE',
    async run(argv, deps) {
      const { values: v } = parseArgs({
        args: argv,
        strict: true,
        options: {
          ...enclaveOptions,
          key: { type: 'string' },
          proof: { type: 'string', multiple: true },
          to: { type: 'string' },
          'receipt-out': { type: 'string' },
        },
      });
      const to = need(v.to, 'to');
      const receiptOut = need(v['receipt-out'], 'receipt-out');
      const owner = await loadOwnerKey(await readJson(need(v.key, 'key')));
      const proofs = await readProofs(v.proof);
      const enclave = await checkedEnclaveFrom(v, deps);
      const s = await encryptSubmission({ proofs, owner: owner.publicJwk }, enclave, { now: deps.now });
      const receiptJws = await submit(s.jwe, { endpoint: to, fetch: deps.fetch });
      const receipt = await verifyReceipt(receiptJws, {
        jwsKey: enclave.jwsKey,
        submissionId: s.submissionId,
        evidenceDigest: enclave.evidenceDigest,
        inputCommitment: s.inputCommitment,
      });
      await writeOut(receiptOut, { version: 1, kind: 'props-receipt-file', jws: receiptJws, receipt });
      return {
        receiptOut,
        submissionId: s.submissionId,
        inputCommitment: receipt.inputCommitment,
        receivedAt: receipt.receivedAt,
      };
    },
  },

  delegate: {
    summary:
      'check the enclave, then send it your token encrypted for an attested fetch: delegate --evidence E --manifest M --policy P --url URL --out FILE',
    async run(argv, deps) {
      const { values: v } = parseArgs({
        args: argv,
        strict: true,
        options: {
          ...enclaveOptions,
          url: { type: 'string' },
          'token-env': { type: 'string' },
          'token-file': { type: 'string' },
          out: { type: 'string' },
        },
      });
      const url = need(v.url, 'url');
      const out = need(v.out, 'out');
      const token = await readToken(v, deps);
      const enclave = await checkedEnclaveFrom(v, deps);
      const d = await delegateFetch({ url, token }, enclave, { now: deps.now });
      await writeOut(out, {
        version: 1,
        kind: 'props-fetch-delegation-envelope',
        jwe: d.jwe,
        delegationId: d.delegationId,
        evidenceDigest: enclave.evidenceDigest,
      });
      return { out, delegationId: d.delegationId, evidenceDigest: enclave.evidenceDigest };
    },
  },

  consent: {
    summary:
      'grant a lender consent: consent --key OWNER --lender ID --days N --max-uses N (--receipt FILE | --input-commitment HEX) --out FILE',
    async run(argv, deps) {
      const { values: v } = parseArgs({
        args: argv,
        strict: true,
        options: {
          key: { type: 'string' },
          lender: { type: 'string' },
          purpose: { type: 'string', default: 'credit-scoring' },
          expires: { type: 'string' },
          days: { type: 'string' },
          'max-uses': { type: 'string' },
          receipt: { type: 'string' },
          'input-commitment': { type: 'string' },
          proof: { type: 'string', multiple: true },
          now: { type: 'string' },
          out: { type: 'string' },
          json: { type: 'boolean' },
        },
      });
      const out = need(v.out, 'out');
      const now = parseNow(v.now, deps.now);
      const owner = await loadOwnerKey(await readJson(need(v.key, 'key')));
      let ic: Hex;
      if (v.receipt !== undefined) {
        const r = (await readJson(v.receipt)) as { receipt?: { inputCommitment?: unknown } };
        ic = parseWith(hex32, r?.receipt?.inputCommitment, 'ERR_RECEIPT_MALFORMED') as Hex;
      } else if (v['input-commitment'] !== undefined) {
        ic = parseWith(hex32, v['input-commitment'], 'ERR_USAGE') as Hex;
      } else if (v.proof?.length) {
        ic = computeInputCommitment(await readProofs(v.proof));
      } else throw usageError('one of --receipt, --input-commitment or --proof is required');
      let expiry: Date;
      if (v.expires !== undefined) expiry = new Date(Date.parse(v.expires));
      else if (v.days !== undefined && /^\d{1,4}$/.test(v.days))
        expiry = new Date(now.getTime() + Number(v.days) * 86_400_000);
      else throw usageError('--expires ISO or --days N is required');
      if (!Number.isFinite(expiry.getTime())) throw usageError('--expires must be an ISO time');
      const maxUses = Number(need(v['max-uses'], 'max-uses'));
      if (!Number.isInteger(maxUses)) throw usageError('--max-uses must be an integer');
      const { consent, jws, ref } = await grantConsent(
        {
          lender: need(v.lender, 'lender'),
          purpose: v.purpose as 'credit-scoring',
          expiry,
          maxUses,
          inputCommitment: ic,
        },
        owner,
        { now: () => now },
      );
      await writeOut(out, { version: 1, kind: 'props-consent-file', jws, consentRef: ref, consent });
      return {
        out,
        consentRef: ref,
        lender: consent.lender,
        purpose: consent.purpose,
        exp: new Date(consent.exp * 1000).toISOString(),
        maxUses: consent.maxUses,
      };
    },
  },
};

// Verification outcomes (exit 1) vs usage or unreadable input (exit 2).
const VERDICT_PREFIXES = [
  'ERR_ORACLE_',
  'ERR_RECEIPT_',
  'ERR_PROVENANCE_',
  'ERR_FETCH_',
  'ERR_SUBMISSION_',
  'ERR_CONSENT_',
  'ERR_EVIDENCE_',
];
const exitFor = (code: ErrorCode): number =>
  code === 'ERR_ORACLE_VERIFIER_UNAVAILABLE' ? 2 : VERDICT_PREFIXES.some((p) => code.startsWith(p)) ? 1 : 2;

function usage(): string {
  return [
    'usage: props oracle <sub-command> [options] [--json]',
    '',
    ...Object.entries(subs).map(([k, s]) => `  ${k.padEnd(8)} ${s.summary}`),
    '',
    `  --now    when the enclave is checked (check, encrypt, submit, delegate) and consent starts (consent);`,
    `           default the current time: ${NOW_FORMATS}`,
    'exit: 0 ok, 1 a check or proof that did not hold, 2 usage or unreadable input',
  ].join('\n');
}

export function makeOracleCommand(deps: OracleCliDeps): Command {
  return {
    summary: 'data owner: fetch records with proof, check the enclave, encrypt, submit, consent',
    usage: usage(),
    async run(argv) {
      const [name, ...rest] = argv;
      if (!name) {
        deps.stderr(`${usage()}\n`);
        return 2;
      }
      const sub = Object.hasOwn(subs, name) ? subs[name] : undefined;
      const json = rest.includes('--json');
      if (!sub) {
        deps.stderr(`props oracle: unknown sub-command "${name}"\n${usage()}\n`);
        return 2;
      }
      try {
        const result = await sub.run(rest, deps);
        if (json) deps.stdout(`${JSON.stringify({ ok: true, command: name, ...result, errors: [] })}\n`);
        else
          deps.stdout(
            `props oracle ${name}: ok\n${Object.entries(result)
              .filter(([k]) => k !== 'checks')
              .map(([k, x]) => `  ${k}: ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
              .join('\n')}\n`,
          );
        return 0;
      } catch (e) {
        // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes: usage. Anything without a PropsError inside is
        // reported by code only, never by message, so nothing it may quote reaches the terminal.
        const argErr =
          typeof (e as { code?: unknown })?.code === 'string' &&
          String((e as { code: string }).code).startsWith('ERR_PARSE_ARGS');
        const pe =
          findPropsError(e) ??
          (argErr
            ? usageError((e as Error).message.split('\n')[0]!.slice(0, 200))
            : new PropsError('ERR_INPUT_MALFORMED'));
        if (json) deps.stdout(`${JSON.stringify({ ok: false, command: name, errors: [pe.toJSON()] })}\n`);
        else
          deps.stderr(
            `props oracle ${name}: ${pe.code}: ${pe.message}\n${pe.code === 'ERR_USAGE' ? `${usage()}\n` : ''}`,
          );
        return exitFor(pe.code);
      }
    },
  };
}

export const oracleCommand: Command = makeOracleCommand(defaultDeps());
