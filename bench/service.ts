// Load test of the scoring service on loopback (autocannon), side by side in one run with its ceiling: a bare Hono
// endpoint doing one P-256 signature per request. Both servers run as child processes; sustained POST /v1/jobs
// (each a full score: consent + borrower cap + nonce + idempotency checks, model, JWS + EIP-712 signatures, log
// append, SQLite commit). `npx tsx bench/service.ts [--duration S] [--connections N] [--json] [--bundle-out FILE] [--profile DIR]`
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { bankTrust, submitViaOracle } from '../test/service-helpers.ts';
import { generateBorrowers } from '../sim/bank/generator.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: {
    duration: { type: 'string', default: '30' },
    connections: { type: 'string', default: '32' },
    json: { type: 'boolean' },
    'bundle-out': { type: 'string' },
    /** Write a V8 CPU profile of `props serve` into this folder. */
    profile: { type: 'string' },
    /** `props serve --result-signing`: each (default) or batch. */
    'result-signing': { type: 'string', default: 'each' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN = 'bench-admin-token-000000001';
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

function startChild(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve({ child, port: (JSON.parse(buf.split('\n')[0] as string) as { port: number }).port });
    });
    child.once('exit', (c) => reject(new Error(`child exited ${c}`)));
  });
}

type Row = { name: string; requestsPerSec: number; p50Ms: number; p99Ms: number; errors: number; non2xx: number; total: number };

async function load(name: string, opts: autocannon.Options): Promise<Row> {
  const r = await autocannon({ duration, connections, ...opts });
  return {
    name,
    requestsPerSec: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    total: r.requests.total,
  };
}

const hex64 = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

// ---- ceiling: bare Hono + one P-256 signature
// `--import tsx` keeps it one process (tsx's CLI would fork a grandchild that outlives a kill).
const ceiling = await startChild(['--import', 'tsx', join(ROOT, 'bench/ceiling-server.ts')]);
const bare = await load('bare Hono + one P-256 signature', {
  url: `http://127.0.0.1:${ceiling.port}/sign`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ nonce: hex64(1) }),
});
ceiling.child.kill('SIGKILL');

// ---- props serve, on a file database in WAL mode
const benchDir = mkdtempSync(join(tmpdir(), 'props-bench-'));
const db = join(benchDir, 'props.db');
// Submissions are the oracle's: a bank-signed statement, accepted under a provenance policy pinning that bank key.
const bank = await bankTrust();
writeFileSync(join(benchDir, 'provenance.json'), JSON.stringify(bank.policy));
const svc = await startChild([...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : []), join(ROOT, 'bin/props.js'), 'serve', '--port', '0', '--db', db, '--rate', '1000000', '--borrower-cap', '1000000000', '--quiet', '--result-signing', values['result-signing'] as string, '--provenance-policy', join(benchDir, 'provenance.json')], {
  PROPS_ADMIN_TOKEN: ADMIN,
});
const base = `http://127.0.0.1:${svc.port}`;
const post = async (path: string, body: unknown, headers: Record<string, string> = {}) =>
  (await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })).json() as Promise<Record<string, any>>;
const lender = await post('/v1/admin/lenders', { name: 'bench' }, { authorization: `Bearer ${ADMIN}` });
// A consent allows at most 1,000 uses (protocol bound), so the run rotates through enough borrowers' consents for
// 5,000 scores/s sustained: request i uses consent ⌊(i−1)/1000⌋.
const USES = 1000;
const borrowers = generateBorrowers('bench', Math.ceil((duration * 5000) / USES) + 1);
const consents: string[] = [];
for (const b of borrowers) consents.push((await submitViaOracle(base, bank.key, { lender: lender.lenderId, maxUses: USES, statement: b.statement })).consentId);
const consentFor = (i: number) => consents[Math.floor((i - 1) / USES) % consents.length] as string;
const auth = `Bearer ${lender.apiKey}`;

// The server's own CPU time over the run (Linux /proc; user + system ticks): a measure that other load on the machine
// disturbs far less than throughput does.
const cpuMs = (pid: number | undefined): number | undefined => {
  const f = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(f)) return undefined;
  const fields = readFileSync(f, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
};
const cpuBefore = cpuMs(svc.child.pid);
let seq = 0;
const scored = await load('props serve: POST /v1/jobs (score)', {
  url: `${base}/v1/jobs`,
  requests: [
    {
      method: 'POST',
      setupRequest: (req) => {
        const i = ++seq;
        return {
          ...req,
          headers: { 'content-type': 'application/json', authorization: auth, 'idempotency-key': `bench-${i.toString().padStart(10, "0")}` },
          body: JSON.stringify({ consentId: consentFor(i), nonce: hex64(i) }),
        };
      },
    },
  ],
});

const cpuAfter = cpuMs(svc.child.pid);
const cpuPerScoreMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / scored.total;
const head = (await (await fetch(`${base}/v1/log/head`)).json()) as { treeSize: number };
if (values['bundle-out']) {
  const job = await post('/v1/jobs', { consentId: consents[consents.length - 1], nonce: hex64(++seq + 1_000_000_000) }, { authorization: auth, 'idempotency-key': 'bench-bundle' });
  const bundle = await (await fetch(`${base}/v1/jobs/${job.jobId}/bundle`, { headers: { authorization: auth } })).json();
  writeFileSync(values['bundle-out'], JSON.stringify(bundle, null, 2));
}
svc.child.kill('SIGTERM');
await new Promise((r) => { svc.child.once('exit', r); setTimeout(r, 5000); });

const ratio = scored.requestsPerSec / bare.requestsPerSec;
// A 202 (accepted, not scored within the wait) is a 2xx but no score: every answered request must have its log leaf.
const unscored = Math.max(0, scored.total - head.treeSize);
const goal = scored.requestsPerSec >= 3000 && scored.p99Ms <= 25 && scored.errors === 0 && scored.non2xx === 0 && unscored === 0;
if (values.json) {
  process.stdout.write(`${JSON.stringify({ bench: 'service', duration, connections, rows: [bare, scored], ratio, cpuPerScoreMs, unscored, logSize: head.treeSize, goalMet: goal })}\n`);
} else {
  process.stdout.write(`\nScoring service under load (${duration} s, ${connections} connections, loopback, autocannon in-process)\n`);
  process.stdout.write(`${'case'.padEnd(40)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}${'non2xx'.padStart(8)}\n`);
  for (const r of [bare, scored]) {
    process.stdout.write(`${r.name.padEnd(40)}${r.requestsPerSec.toFixed(0).padStart(10)}${String(r.p50Ms).padStart(9)}${String(r.p99Ms).padStart(9)}${String(r.errors).padStart(8)}${String(r.non2xx).padStart(8)}\n`);
  }
  if (cpuPerScoreMs !== undefined) process.stdout.write(`props serve CPU per score (user+sys, all threads): ${cpuPerScoreMs.toFixed(3)} ms\n`);
  process.stdout.write(`ratio score/ceiling: ${(ratio * 100).toFixed(1)}%   log size after run: ${head.treeSize} (unscored answers: ${unscored})   goal (≥3000/s, p99≤25 ms, 0 errors): ${goal ? 'met' : 'NOT met'}\n`);
}
process.exit(0);
