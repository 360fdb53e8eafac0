// `props attest verify`: appraise real attestation evidence from files, offline, at a pinned `--now`.
// Exported as a Command for the lead's `props attest` to delegate to; the map of verifiers is injectable.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  findPropsError,
  parseJsonText,
  PLATFORMS,
  PropsError,
  type ErrorCode,
  type Platform,
} from '../protocol/index.ts';
import { NOW_FORMATS, parseNow } from './now.ts';
import { parsePolicyText, type Policy } from './policy.ts';
import { appraise, type AttestVerdict, type VerifierMap } from './platforms/appraise.ts';
import type { RealInputs } from './platforms/inputs.ts';
import { crossCheckedVerifiers } from './platforms/real.ts';

type Command = { summary: string; usage: string; run: (argv: string[]) => Promise<number> };

export const DEFAULT_ATTEST_POLICY = fileURLToPath(new URL('./policies/attestation-default.json', import.meta.url));

const USAGE = `usage: props attest verify --platform sim|tdx|sgx|sev-snp|nitro|nvidia --evidence FILE --now ISO
         [--collateral FILE] [--certs FILE...] [--event-log FILE] [--policy FILE]
         [--report-data HEX] [--nonce HEX] [--json]
  --collateral  DCAP collateral JSON (@phala/dcap-qvl QuoteCollateralV3 shape)
  --certs       PEM/DER certificate files, one or more (SEV-SNP VCEK+ASK[+ARK]; NVIDIA device chain)
  --event-log   TDX event log: CCEL bytes or dstack JSON (a dstack quote-report.json evidence carries its own)
  --report-data expected report_data / user data (0x-hex) the evidence must bind
  --nonce       NVIDIA: expected SPDM nonce (0x-hex)
  --now         verification time (required): ${NOW_FORMATS}
exit: 0 accepted, 1 rejected, 2 usage or unreadable input`;

/** Codes that mean "could not even start": exit 2 rather than 1. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  'ERR_USAGE',
  'ERR_FILE_UNREADABLE',
  'ERR_JSON_MALFORMED',
  'ERR_JSON_DUPLICATE_KEY',
  'ERR_POLICY_MALFORMED',
  'ERR_UNKNOWN_PLATFORM',
  'ERR_UNKNOWN_VERSION',
  'ERR_PLATFORM_VERIFIER_UNAVAILABLE',
  'ERR_INPUT_TOO_LARGE',
]);

const MAX_FILE = 16 * 1024 * 1024;

export type AttestVerifyDeps = {
  verifiers?: VerifierMap;
  read?: (path: string) => Promise<Uint8Array>;
  out?: (s: string) => void;
  err?: (s: string) => void;
};

const simPlaceholder: NonNullable<VerifierMap['sim']> = {
  platform: 'sim',
  verify: async () => {
    throw new PropsError('ERR_PLATFORM_VERIFIER_UNAVAILABLE', {
      detail: 'sim evidence is handled by the sim verifier (props verify)',
    });
  },
};

async function defaultRead(path: string): Promise<Uint8Array> {
  try {
    const b = await readFile(path);
    if (b.length > MAX_FILE) throw new PropsError('ERR_INPUT_TOO_LARGE', { detail: path });
    return new Uint8Array(b);
  } catch (e) {
    if (e instanceof PropsError) throw e;
    throw new PropsError('ERR_FILE_UNREADABLE', { detail: path, cause: e });
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const HEX_RE = /^\s*(0x)?([0-9a-fA-F]{2})+\s*$/;

/** Evidence files come raw, as hex text, or (TDX) as a dstack quote-report JSON carrying quote + event log. */
function decodeEvidence(platform: Platform, raw: Uint8Array): { evidence: Uint8Array; eventLog?: unknown } {
  if (platform === 'nvidia' || platform === 'nitro' || platform === 'sev-snp') return { evidence: raw };
  const head = text(raw.subarray(0, 16)).trimStart();
  if (head.startsWith('{')) {
    const j = parseJsonText(text(raw), MAX_FILE) as Record<string, unknown>;
    if (typeof j?.quote !== 'string' || !HEX_RE.test(j.quote))
      throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'JSON evidence without a hex "quote"' });
    const evidence = new Uint8Array(Buffer.from(j.quote.trim().replace(/^0x/, ''), 'hex'));
    return typeof j.event_log === 'string' ? { evidence, eventLog: j.event_log } : { evidence };
  }
  if (raw.length < 1 << 20 && HEX_RE.test(text(raw)))
    return { evidence: new Uint8Array(Buffer.from(text(raw).trim().replace(/^0x/, ''), 'hex')) };
  return { evidence: raw };
}

/** `--certs A B C` → `--certs A --certs B --certs C`, so the documented `--certs FILE…` form works with parseArgs. */
export function expandCerts(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    out.push(a);
    if (a !== '--certs') continue;
    if (i + 1 < argv.length) out.push(argv[++i] as string);
    while (i + 1 < argv.length && !(argv[i + 1] as string).startsWith('--')) out.push('--certs', argv[++i] as string);
  }
  return out;
}

export function makeAttestVerifyCommand(deps: AttestVerifyDeps = {}): Command {
  const verifiers: VerifierMap = deps.verifiers ?? ({ sim: simPlaceholder, ...crossCheckedVerifiers() } as VerifierMap);
  const read = deps.read ?? defaultRead;
  const out = deps.out ?? ((s: string) => process.stdout.write(s));
  const err = deps.err ?? ((s: string) => process.stderr.write(s));
  return {
    summary: 'verify real attestation evidence (TDX, SGX, SEV-SNP, Nitro, NVIDIA) offline against a policy',
    usage: USAGE,
    async run(argv: string[]): Promise<number> {
      let args;
      try {
        args = parseArgs({
          args: expandCerts(argv[0] === 'verify' ? argv.slice(1) : argv),
          strict: true,
          allowPositionals: false,
          options: {
            platform: { type: 'string' },
            evidence: { type: 'string' },
            collateral: { type: 'string' },
            certs: { type: 'string', multiple: true },
            'event-log': { type: 'string' },
            policy: { type: 'string' },
            'report-data': { type: 'string' },
            nonce: { type: 'string' },
            now: { type: 'string' },
            json: { type: 'boolean', default: false },
          },
        }).values;
      } catch (e) {
        err(`props attest verify: ${(e as Error).message}\n${USAGE}\n`);
        return 2;
      }
      const platform = args.platform as Platform | undefined;
      let now: Date | undefined;
      if (args.now !== undefined) {
        try {
          now = parseNow(args.now);
        } catch (e) {
          const pe = findPropsError(e);
          if (!pe) throw e;
          err(`props attest verify: ${pe.code}: ${pe.message}\n${USAGE}\n`);
          return 2;
        }
      }
      const hexOk = (h: string | undefined) => h === undefined || /^0x([0-9a-fA-F]{2})+$/.test(h);
      if (
        !platform ||
        !(PLATFORMS as readonly string[]).includes(platform) ||
        !args.evidence ||
        !now ||
        !hexOk(args['report-data']) ||
        !hexOk(args.nonce)
      ) {
        err(
          `props attest verify: --platform, --evidence and a valid --now are required (hex options as 0x-hex)\n${USAGE}\n`,
        );
        return 2;
      }
      let verdict: AttestVerdict;
      try {
        const policy: Policy = parsePolicyText(text(await read(args.policy ?? DEFAULT_ATTEST_POLICY)));
        const { evidence, eventLog } = decodeEvidence(platform, await read(args.evidence));
        const inputs: RealInputs = {};
        if (args.collateral) inputs.collateral = parseJsonText(text(await read(args.collateral)), MAX_FILE);
        if (args.certs?.length) inputs.certs = await Promise.all(args.certs.map(read));
        if (args['event-log']) inputs.eventLog = await read(args['event-log']);
        else if (eventLog !== undefined) inputs.eventLog = eventLog;
        if (args.nonce) inputs.expectedNonce = new Uint8Array(Buffer.from(args.nonce.slice(2), 'hex'));
        verdict = await appraise({
          platform,
          evidence,
          inputs,
          policy,
          now,
          verifiers,
          ...(args['report-data'] ? { expectedReportData: args['report-data'].toLowerCase() } : {}),
        });
      } catch (e) {
        const pe = findPropsError(e);
        if (!pe) throw e;
        const code = USAGE_CODES.has(pe.code) ? 2 : 1;
        if (args.json)
          out(
            `${JSON.stringify({ ok: false, platform, debug: null, reportData: null, measurements: {}, errors: [{ code: pe.code, message: pe.message }] })}\n`,
          );
        else err(`props attest verify: ${pe.code}: ${pe.message}\n`);
        return code;
      }
      if (args.json) out(`${JSON.stringify(verdict)}\n`);
      else {
        out(
          `${verdict.ok ? 'ACCEPTED' : 'REJECTED'} ${verdict.platform}${verdict.status ? ` status=${verdict.status}` : ''} debug=${verdict.debug}\n`,
        );
        for (const e of verdict.errors) out(`  ${e.code}: ${e.message}\n`);
      }
      if (verdict.ok) return 0;
      return verdict.errors.some((e) => USAGE_CODES.has(e.code)) ? 2 : 1;
    },
  };
}

export const attestVerifyCommand: Command = makeAttestVerifyCommand();
