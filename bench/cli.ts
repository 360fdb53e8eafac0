// `props bench [--json] [--only NAME…]`: runs every bench/<name>.ts in its own process (so one bench's warm caches
// never flatter another's) and prints their tables, or one JSON object with every bench's rows and ratios.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../protocol/index.ts';

const DIR = fileURLToPath(new URL('.', import.meta.url));
// The benches, in the order they run; other files here are their helpers (harness, the ceiling server, workers) or
// diagnostics run by hand (wal-pages: which B-trees a commit writes).
const BENCHES = [
  'signing',
  'attested',
  'model',
  'attestation',
  'provenance',
  'fetch',
  'gas',
  'store',
  'log',
  'service',
  'fleet',
  'kms',
] as const;

export const benchCommand: Command = {
  summary: 'run the benchmarks side by side (npm run bench)',
  usage: `usage: props bench [--only NAME]… [--json]\n  benches, in the order they run: ${BENCHES.join(', ')}`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: { json: { type: 'boolean' }, only: { type: 'string', multiple: true } },
    });
    const names = BENCHES.filter((n) => existsSync(join(DIR, `${n}.ts`)));
    const chosen = values.only?.length ? names.filter((n) => values.only?.includes(n)) : names;
    if (values.only?.some((n) => !names.includes(n as (typeof BENCHES)[number]))) {
      process.stderr.write(`props bench: unknown bench; known: ${names.join(', ')}\n`);
      return 2;
    }
    const tsx = join(DIR, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const results: Record<string, unknown> = {};
    let failed = 0;
    for (const name of chosen) {
      const r = spawnSync(process.execPath, [tsx, join(DIR, `${name}.ts`), ...(values.json ? ['--json'] : [])], {
        encoding: 'utf8',
        stdio: values.json ? ['ignore', 'pipe', 'inherit'] : 'inherit',
        maxBuffer: 64 * 1024 * 1024,
      });
      if (r.status !== 0) failed++;
      if (values.json) {
        const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
        try {
          results[name] = JSON.parse(last);
        } catch {
          results[name] = { error: `exit ${r.status}` };
        }
      }
    }
    if (values.json)
      process.stdout.write(
        `${JSON.stringify({ machine: { node: process.version, platform: process.platform, arch: process.arch }, benches: results })}\n`,
      );
    return failed ? 1 : 0;
  },
};
