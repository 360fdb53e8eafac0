// Load test of the scoring service on loopback (autocannon), side by side in one run with its ceiling: a bare Hono
// endpoint doing one P-256 signature per request. Both servers run as child processes; sustained POST /v1/jobs
// (each a full score: consent + borrower cap + nonce + idempotency checks, model, JWS + EIP-712 signatures, log
// append, SQLite commit). `npx tsx bench/service.ts [--duration S] [--connections N] [--rounds R] [--db-dir DIR]
// [--json] [--bundle-out FILE] [--profile DIR] [--result-signing each|batch] [--keys random|sequential]
// [--serve-node-options="--flag ..."]` (with `=`: node:util's parseArgs refuses a separate value that starts with a
// dash). With R rounds the ceiling and the service alternate R times (a fresh server and database each round) and the
// medians are reported next to every round: this machine's speed drifts by tens of percent from minute to minute, so
// one pair is not enough to judge.
// `--profile` and `--bundle-out` apply to the last round.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bankTrust } from '../testing/service.ts';
import {
  ROOT,
  USES_PER_CONSENT,
  ceilingRound,
  cpuMs,
  diskBytes,
  hex64,
  load,
  makeConsents,
  median,
  scoreRequests,
  startChild,
  stopChild,
  type Row,
} from './harness-http.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: {
    duration: { type: 'string', default: '30' },
    connections: { type: 'string', default: '32' },
    json: { type: 'boolean' },
    'bundle-out': { type: 'string' },
    /** Write a V8 CPU profile of `props serve` (the last round) into this folder. */
    profile: { type: 'string' },
    /** `props serve --result-signing`: each (default) or batch. */
    'result-signing': { type: 'string', default: 'each' },
    rounds: { type: 'string', default: '1' },
    /**
     * Lenders' nonces and idempotency keys: `random` (default; 32 random bytes and a UUIDv4, as a lender's client
     * would make them) or `sequential` (counters — what this bench used before 2026-12-02's fourth session; they
     * land at the end of the store's unique indexes, so the store writes fewer pages than with real clients).
     */
    keys: { type: 'string', default: 'random' },
    /** Node options for `props serve`, space-separated, given with `=` (e.g. `--serve-node-options=--max-semi-space-size=64`); default none. */
    'serve-node-options': { type: 'string', default: '' },
    /** Where the service's SQLite file goes (default: the OS temp folder). */
    'db-dir': { type: 'string' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
if (values.keys !== 'random' && values.keys !== 'sequential') throw new Error('--keys must be random or sequential');
const sequentialKeys = values.keys === 'sequential';
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
const ADMIN = 'bench-admin-token-000000001';

// ---- props serve, on a file database in WAL mode
type ServiceRun = {
  row: Row;
  cpuPerScoreMs: number | undefined;
  diskKbPerScore: number | undefined;
  logSize: number;
  unscored: number;
  bundleMs: number;
};
async function serviceRound(last: boolean): Promise<ServiceRun> {
  const benchDir = mkdtempSync(join(values['db-dir'] ?? tmpdir(), 'props-bench-'));
  const db = join(benchDir, 'props.db');
  // Submissions are the oracle's: a bank-signed statement, accepted under a provenance policy pinning that bank key.
  const bank = await bankTrust();
  writeFileSync(join(benchDir, 'provenance.json'), JSON.stringify(bank.policy));
  const profile = last && values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];
  const serveNodeOptions = (values['serve-node-options'] as string).split(/\s+/).filter(Boolean);
  const svc = await startChild(
    [
      ...serveNodeOptions,
      ...profile,
      join(ROOT, 'bin/props.js'),
      'serve',
      '--port',
      '0',
      '--db',
      db,
      '--rate',
      '1000000',
      '--borrower-cap',
      '1000000000',
      '--quiet',
      '--result-signing',
      values['result-signing'] as string,
      '--provenance-policy',
      join(benchDir, 'provenance.json'),
    ],
    {
      PROPS_ADMIN_TOKEN: ADMIN,
    },
  );
  const base = `http://127.0.0.1:${svc.port}`;
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) =>
    (
      await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      })
    ).json() as Promise<{ lenderId: string; apiKey: string; jobId: string }>;
  const lender = await post('/v1/admin/lenders', { name: 'bench' }, { authorization: `Bearer ${ADMIN}` });
  // Enough borrowers' consents for 5,000 scores/s sustained.
  const { consents, consentFor } = await makeConsents(base, bank.key, {
    lenderId: lender.lenderId,
    count: Math.ceil((duration * 5000) / USES_PER_CONSENT) + 1,
    seed: 'bench',
  });
  const auth = `Bearer ${lender.apiKey}`;

  const cpuBefore = cpuMs(svc.child.pid);
  const diskBefore = diskBytes(svc.child.pid);
  const jobs = scoreRequests({ auth, consentFor, sequentialKeys });
  const row = await load('props serve: POST /v1/jobs (score)', {
    duration,
    connections,
    url: `${base}/v1/jobs`,
    requests: jobs.requests,
  });
  const cpuAfter = cpuMs(svc.child.pid);
  const diskAfter = diskBytes(svc.child.pid);
  const diskKbPerScore =
    diskBefore === undefined || diskAfter === undefined ? undefined : (diskAfter - diskBefore) / 1024 / row.total;
  const cpuPerScoreMs =
    cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / row.total;
  const head = (await (await fetch(`${base}/v1/log/head`)).json()) as { treeSize: number };
  // After the load, what a lender pays for its audit bundle (the job, its result, a signed head and the result's
  // inclusion proof) in a log of this size: ten fetches of one job's bundle, the median.
  const job = await post(
    '/v1/jobs',
    { consentId: consents[consents.length - 1], nonce: hex64(jobs.count() + 1_000_000_001) },
    { authorization: auth, 'idempotency-key': 'bench-bundle' },
  );
  const bundleTimes: number[] = [];
  let bundle: unknown;
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    bundle = await (await fetch(`${base}/v1/jobs/${job.jobId}/bundle`, { headers: { authorization: auth } })).json();
    bundleTimes.push(performance.now() - t0);
  }
  const bundleMs = [...bundleTimes].sort((a, b) => a - b)[5] as number;
  if (last && values['bundle-out']) writeFileSync(values['bundle-out'], JSON.stringify(bundle, null, 2));
  await stopChild(svc.child);
  rmSync(benchDir, { recursive: true, force: true });
  // A 202 (accepted, not scored within the wait) is a 2xx but no score: every answered request must have its log leaf.
  return {
    row,
    cpuPerScoreMs,
    diskKbPerScore,
    logSize: head.treeSize,
    unscored: Math.max(0, row.total - head.treeSize),
    bundleMs,
  };
}

type Round = { ceiling: Row; service: ServiceRun; ratio: number };
const runs: Round[] = [];
for (let r = 0; r < rounds; r++) {
  const ceiling = await ceilingRound(duration, connections);
  const service = await serviceRound(r === rounds - 1);
  runs.push({ ceiling, service, ratio: service.row.requestsPerSec / ceiling.requestsPerSec });
}
const med = {
  ceilingPerSec: median(runs.map((x) => x.ceiling.requestsPerSec)),
  scoresPerSec: median(runs.map((x) => x.service.row.requestsPerSec)),
  p50Ms: median(runs.map((x) => x.service.row.p50Ms)),
  p99Ms: median(runs.map((x) => x.service.row.p99Ms)),
  ratio: median(runs.map((x) => x.ratio)),
  cpuPerScoreMs: median(runs.flatMap((x) => (x.service.cpuPerScoreMs === undefined ? [] : [x.service.cpuPerScoreMs]))),
};
const clean = runs.every((x) => x.service.row.errors === 0 && x.service.row.non2xx === 0 && x.service.unscored === 0);
// The goal: ≥ 3,000 scores/s and ≥ 30 % of the same run's ceiling, p99 ≤ 25 ms, zero errors (medians of the rounds).
const goal = med.scoresPerSec >= 3000 && med.ratio >= 0.3 && med.p99Ms <= 25 && clean;
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ bench: 'service', duration, connections, resultSigning: values['result-signing'], keys: values.keys, rounds: runs, median: med, goalMet: goal })}\n`,
  );
} else {
  process.stdout.write(
    `\nScoring service under load (${duration} s per run, ${connections} connections, loopback, autocannon in-process, --result-signing ${values['result-signing']}, --keys ${values.keys})\n`,
  );
  process.stdout.write(
    `${'round'.padEnd(7)}${'case'.padEnd(40)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}${'non2xx'.padStart(8)}${'CPU ms/score'.padStart(14)}${'ratio'.padStart(8)}\n`,
  );
  const line = (round: string, r: Row, cpu = '', ratio = '') =>
    process.stdout.write(
      `${round.padEnd(7)}${r.name.padEnd(40)}${r.requestsPerSec.toFixed(0).padStart(10)}${String(r.p50Ms).padStart(9)}${String(r.p99Ms).padStart(9)}${String(r.errors).padStart(8)}${String(r.non2xx).padStart(8)}${cpu.padStart(14)}${ratio.padStart(8)}\n`,
    );
  runs.forEach((x, i) => {
    line(String(i + 1), x.ceiling);
    line(String(i + 1), x.service.row, x.service.cpuPerScoreMs?.toFixed(3) ?? 'n/a', `${(x.ratio * 100).toFixed(1)}%`);
  });
  runs.forEach((x, i) =>
    process.stdout.write(
      `round ${i + 1}: ${x.service.diskKbPerScore?.toFixed(1) ?? 'n/a'} kB written toward disk per score; audit bundle (GET /v1/jobs/{id}/bundle) at ${x.service.logSize.toLocaleString('en')} log leaves: ${x.service.bundleMs.toFixed(2)} ms, median of 10\n`,
    ),
  );
  process.stdout.write(
    `median: ceiling ${med.ceilingPerSec.toFixed(0)}/s; props serve ${med.scoresPerSec.toFixed(0)} scores/s, p50 ${med.p50Ms} ms, p99 ${med.p99Ms} ms, ` +
      `CPU ${med.cpuPerScoreMs.toFixed(3)} ms/score, ${(med.ratio * 100).toFixed(1)}% of the ceiling; ` +
      `every answer in the log: ${runs.every((x) => x.service.unscored === 0) ? 'yes' : 'NO'}; goal (≥3000/s and ≥30% of the ceiling, p99≤25 ms, 0 errors): ${goal ? 'met' : 'NOT met'}\n`,
  );
}
process.exit(0);
