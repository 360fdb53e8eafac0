// Attested fetch vs a plain HTTPS fetch of the same statement from the bank-portal fixture, interleaved in one run
// (fresh TLS connection each, same trust store and routing). Goal: attested / plain ≤ 1.10.
//   npx tsx bench/fetch.ts [--json] [--n 400] [--txs 600] [--server-ms 0,5]
// Each --server-ms value is a scenario: the portal waits that long before answering, standing in for a real bank's
// backend (loopback has none, so 0 ms is the worst case for the ratio). The statement is the hand-built sample with its
// transactions repeated to --txs entries (about months of history). The portal runs on its own thread.
import { request, type RequestOptions } from 'node:https';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createAttestedFetcher } from '../enclave/fetcher.ts';
import { nodeEs256Signer } from '../enclave/jws-signer.ts';

const { values: v } = parseArgs({
  options: {
    json: { type: 'boolean' },
    n: { type: 'string', default: '400' },
    txs: { type: 'string', default: '600' },
    'server-ms': { type: 'string', default: '0,5' },
  },
  strict: true,
});
const N = Math.max(20, Number(v.n));
const TXS = Math.min(20_000, Math.max(1, Number(v.txs)));
const SCENARIOS = v['server-ms']!.split(',').map((x) => Math.max(0, Number(x)));
const TOKEN = 'tok_bench_4kQ9';
// A node KeyObject signed through node:crypto (jose 6 goes through WebCrypto, several times slower per signature).
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

async function scenario(serverMs: number) {
  // Workers do not inherit tsx's loader, so the worker registers it before importing the TypeScript entry.
  const entry = new URL('./workers/fetch-portal.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { txs: TXS, serverMs, token: TOKEN } });
  const portal = await new Promise<{ port: number; caPem: string; host: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const url = `https://${portal.host}/accounts/acc-1/statement`;
  const route = (h: string) => (h === portal.host ? { address: '127.0.0.1', port: portal.port } : undefined);
  const attested = createAttestedFetcher(
    {
      allowedHosts: [portal.host],
      extraCaPems: [portal.caPem],
      useSystemRoots: true,
      maxBodyBytes: 1 << 22,
      timeoutMs: 10_000,
    },
    { now: () => new Date(), signer: nodeEs256Signer(privateKey, 'bench'), route },
  );

  // The baseline: the same request, same trust store (built once), same routing — no pinning, digests or signature.
  const secureContext = createSecureContext({ ca: [...rootCertificates, portal.caPem], minVersion: 'TLSv1.2' });
  const lookup = ((_h: string, o: unknown, cb?: (...a: unknown[]) => void) => {
    const done = (typeof o === 'function' ? o : cb) as (...a: unknown[]) => void;
    const all = typeof o === 'object' && o !== null && (o as { all?: boolean }).all === true;
    queueMicrotask(() => (all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4)));
  }) as unknown as LookupFunction;
  const opts: RequestOptions & { secureContext: SecureContext } = {
    method: 'GET',
    headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json' },
    agent: false,
    secureContext,
    servername: portal.host,
    port: portal.port,
    lookup,
  };
  const plain = () =>
    new Promise<Buffer>((resolve, reject) => {
      const req = request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });

  let bodyBytes = 0;
  for (let i = 0; i < 20; i++) {
    await plain();
    bodyBytes = (await attested({ url, token: TOKEN })).body.length;
  }
  const a: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < N; i++) {
    // Alternate the order so neither side always runs on a warmer machine.
    if (i % 2 === 0) {
      p.push(await time(plain));
      a.push(await time(() => attested({ url, token: TOKEN })));
    } else {
      a.push(await time(() => attested({ url, token: TOKEN })));
      p.push(await time(plain));
    }
  }
  worker.postMessage('close');
  await new Promise((r) => worker.once('exit', r));
  return {
    serverMs,
    bodyBytes,
    plainMedianMs: +median(p).toFixed(3),
    attestedMedianMs: +median(a).toFixed(3),
    overheadMedianMs: +(median(a) - median(p)).toFixed(3),
    ratioMedian: +(median(a) / median(p)).toFixed(3),
    ratioMean: +(mean(a) / mean(p)).toFixed(3),
  };
}

const rows = [];
for (const s of SCENARIOS) rows.push(await scenario(s));
const GOAL = 1.1;
if (v.json) {
  process.stdout.write(
    `${JSON.stringify({ bench: 'attested-fetch-vs-plain-https', n: N, goal: GOAL, scenarios: rows })}\n`,
  );
} else {
  process.stdout.write(
    `attested fetch vs plain HTTPS — fresh TLS each, n=${N} interleaved pairs per scenario, goal ≤ ${GOAL}×\n`,
  );
  process.stdout.write(
    `${'server wait'.padEnd(13)}${'body B'.padStart(8)}${'plain p50'.padStart(11)}${'attested p50'.padStart(14)}${'overhead'.padStart(10)}${'ratio p50'.padStart(11)}${'ratio mean'.padStart(12)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${`${r.serverMs} ms`.padEnd(13)}${String(r.bodyBytes).padStart(8)}${`${r.plainMedianMs} ms`.padStart(11)}${`${r.attestedMedianMs} ms`.padStart(14)}${`${r.overheadMedianMs} ms`.padStart(10)}${`${r.ratioMedian}×`.padStart(11)}${`${r.ratioMean}×`.padStart(12)}  ${r.ratioMedian <= GOAL ? 'met' : 'NOT met'}\n`,
    );
  }
}
