// `props verify FILE`: verifies an audit bundle offline and prints a checklist (or JSON with --json).
// Exit 0 when every check held, 1 when verification failed, 2 for usage or unreadable input.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { findPropsError, parseJsonText, type ErrorCode } from '../protocol/index.ts';
import type { Command } from '../protocol/index.ts';
import { verifyBundle } from './bundle.ts';
import { readJsonFile } from './cli-io.ts';
import { loadDefaultPolicy } from './default-policy.ts';
import { NOW_FORMATS, parseNow } from './now.ts';
import { signEar } from './ear.ts';
import { parsePolicy, type Policy } from './policy.ts';

export const MAX_BUNDLE_BYTES = 32 * 1024 * 1024;
const USAGE = `usage: props verify FILE [--policy P] [--allow-simulated] [--now ISO] [--json] [--ear-jwt VERIFIER_KEY_JWK] [--ear-out FILE]
  --now  verification time (default: the current time): ${NOW_FORMATS}
exit: 0 verified, 1 verification failed, 2 usage or unreadable input`;

export const verifyCommand: Command = {
  summary: 'verify an audit bundle (evidence, manifest, results) offline',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        policy: { type: 'string' },
        'allow-simulated': { type: 'boolean' },
        now: { type: 'string' },
        json: { type: 'boolean' },
        'ear-jwt': { type: 'string' },
        'ear-out': { type: 'string' },
      },
    });
    if (positionals.length !== 1) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    const json = values.json ?? false;
    let policy: Policy;
    let input: unknown;
    let now: Date;
    try {
      now = parseNow(values.now);
      policy = values.policy ? parsePolicy(readJsonFile(values.policy, 256 * 1024)) : loadDefaultPolicy();
      input = readJsonFile(positionals[0] ?? '', MAX_BUNDLE_BYTES);
    } catch (e) {
      return unreadable(e, json);
    }
    const report = await verifyBundle(input, { policy, now, allowSimulated: values['allow-simulated'] ?? false });
    let earJwt: string | undefined;
    if (values['ear-jwt']) {
      try {
        earJwt = await signEar(
          report.ear,
          parseJsonText(readFileSync(values['ear-jwt'], 'utf8'), 16_384) as Parameters<typeof signEar>[1],
        );
        if (values['ear-out']) writeFileSync(values['ear-out'], `${earJwt}\n`);
      } catch (e) {
        return unreadable(e, json);
      }
    }
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ ok: report.ok, simulated: report.simulated, checks: report.checks, ear: report.ear, ...(earJwt ? { earJwt } : {}) })}\n`,
      );
    } else {
      const lines = report.checks.map(
        (c) => `${c.ok ? '  ✓' : '  ✗'} ${c.id}${c.code ? `  ${c.code}` : ''}${c.detail ? `  — ${c.detail}` : ''}`,
      );
      const status = report.ear.submods['props-enclave']?.['ear.status'] ?? 'none';
      const head = report.simulated
        ? 'SIMULATED evidence (platform "sim"): this proves the flow, not the hardware.\n'
        : '';
      process.stdout.write(
        `${head}${lines.join('\n')}\n${report.ok ? 'OK' : 'FAILED'} — EAR status: ${status}, policy ${policy.id}\n`,
      );
      if (earJwt && !values['ear-out']) process.stdout.write(`${earJwt}\n`);
    }
    return report.ok ? 0 : 1;
  },
};

function unreadable(e: unknown, json: boolean): number {
  const pe = findPropsError(e);
  const code: ErrorCode = pe?.code ?? 'ERR_FILE_UNREADABLE';
  const message = pe?.message ?? 'input could not be read';
  if (json)
    process.stdout.write(
      `${JSON.stringify({ ok: false, checks: [{ id: 'input', ok: false, code, detail: message }], error: { code, message } })}\n`,
    );
  else process.stderr.write(`props verify: ${code}: ${message}\n`);
  return 2;
}
