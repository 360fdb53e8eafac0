// Shared by the HTTP load benches (service, fleet): child servers that die with the bench, one autocannon run as a
// table row, the ceiling round, the score requests a lender's client sends, consents made as data owners make them,
// and the /proc readings (CPU, disk) that other load on this shared machine disturbs less than throughput.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { generateBorrowers } from '../sim/bank/generator.ts';
import { submitViaOracle, type bankTrust } from '../testing/service.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** Starts `node ARGS` from the repository root; resolves with the JSON of its first stdout line (its start line). */
export function startChild(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; port: number; info: Record<string, unknown> }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (!buf.includes('\n')) return;
      const info = JSON.parse(buf.split('\n')[0] as string) as Record<string, unknown>;
      resolve({ child, port: info.port as number, info });
    });
    child.once('exit', (c) => reject(new Error(`child exited ${c}`)));
  });
}

/** SIGTERM, then waits for the exit (a graceful stop writes any --cpu-prof profile), at most `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => {
    child.once('exit', r);
    setTimeout(r, graceMs);
  });
}

export type Row = {
  name: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  total: number;
};

/** One autocannon run; duration and connections are required so no run falls back to autocannon's defaults. */
export async function load(
  name: string,
  opts: autocannon.Options & { duration: number; connections: number },
): Promise<Row> {
  const r = await autocannon(opts);
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

export const hex64 = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/** The ceiling: bare Hono + one P-256 signature per request, in its own process. */
export async function ceilingRound(duration: number, connections: number): Promise<Row> {
  // `--import tsx` keeps it one process (tsx's CLI would fork a grandchild that outlives a kill).
  const ceiling = await startChild(['--import', 'tsx', join(ROOT, 'bench/ceiling-server.ts')]);
  const row = await load('bare Hono + one P-256 signature', {
    duration,
    connections,
    url: `http://127.0.0.1:${ceiling.port}/sign`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ nonce: hex64(1) }),
  });
  ceiling.child.kill('SIGKILL');
  return row;
}

/**
 * The load a lender's client sends: POST /v1/jobs, request i on consent `consentFor(i)`, with a fresh nonce and
 * idempotency key each — random (as real clients make them) or counters. `count()` is how many were made.
 */
export function scoreRequests(o: { auth: string; consentFor: (i: number) => string; sequentialKeys: boolean }): {
  requests: autocannon.Request[];
  count: () => number;
} {
  let seq = 0;
  const requests: autocannon.Request[] = [
    {
      method: 'POST',
      setupRequest: (req) => {
        const i = ++seq;
        return {
          ...req,
          headers: {
            'content-type': 'application/json',
            authorization: o.auth,
            'idempotency-key': o.sequentialKeys ? `bench-${i.toString().padStart(10, '0')}` : randomUUID(),
          },
          body: JSON.stringify({
            consentId: o.consentFor(i),
            nonce: o.sequentialKeys ? hex64(i) : `0x${randomBytes(32).toString('hex')}`,
          }),
        };
      },
    },
  ];
  return { requests, count: () => seq };
}

/** A consent allows at most this many uses (protocol bound); a run rotates through enough consents. */
export const USES_PER_CONSENT = 1000;

/**
 * `count` borrowers' submissions and consents for `lenderId`, made on the instance at `base` as data owners make them
 * (bank-signed statement encrypted to that instance), and the consent for request i: ⌊(i−1)/USES⌋, wrapping.
 */
export async function makeConsents(
  base: string,
  bank: Awaited<ReturnType<typeof bankTrust>>['key'],
  o: { lenderId: string; count: number; seed: string },
): Promise<{ consents: string[]; consentFor: (i: number) => string }> {
  const consents: string[] = [];
  for (const b of generateBorrowers(o.seed, o.count)) {
    consents.push(
      (await submitViaOracle(base, bank, { lender: o.lenderId, maxUses: USES_PER_CONSENT, statement: b.statement }))
        .consentId,
    );
  }
  return { consents, consentFor: (i) => consents[Math.floor((i - 1) / USES_PER_CONSENT) % consents.length] as string };
}

/** Ticks of CPU (user + system) a process has used, in ms (Linux /proc); undefined once it is gone. */
export const cpuMs = (pid: number | undefined): number | undefined => {
  const f = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(f)) return undefined;
  const fields = readFileSync(f, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
};

// Bytes the server sent toward storage over the run (Linux /proc/PID/io write_bytes: file data it dirtied — the WAL
// appends, and the checkpointer's copies into the database file).
export const diskBytes = (pid: number | undefined): number | undefined => {
  const f = `/proc/${pid}/io`;
  if (pid === undefined || !existsSync(f)) return undefined;
  const m = /^write_bytes: (\d+)$/m.exec(readFileSync(f, 'utf8'));
  return m ? Number(m[1]) : undefined;
};
