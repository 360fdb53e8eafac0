// Attested fetch vs a plain HTTPS fetch of the same statement from the bank-portal fixture, interleaved in one run
// (fresh TLS connection each, same trust store and routing). Goal: attested / plain ≤ 1.10.
//   npx tsx bench/fetch.ts [--json] [--n 400] [--txs 600] [--server-ms 0]
// --server-ms makes the portal wait before answering, standing in for a real bank backend (loopback has none).
// The statement is the hand-built sample with its transactions repeated to --txs entries (about months of history).
import { request } from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createAttestedFetcher } from '../enclave/fetcher.ts';
import { nodeEs256Signer } from '../enclave/jws-signer.ts';

const { values: v } = parseArgs({
  options: { json: { type: 'boolean' }, n: { type: 'string', default: '400' }, txs: { type: 'string', default: '600' }, 'server-ms': { type: 'string', default: '0' } },
  strict: true,
});
const N = Math.max(20, Number(v.n));
const TXS = Math.min(20_000, Math.max(1, Number(v.txs)));
const SERVER_MS = Math.max(0, Number(v['server-ms']));
const TOKEN = 'tok_bench_4kQ9';
// The portal runs on its own thread (a real bank is another machine); the client side is measured here.
// Workers do not inherit tsx's loader, so the worker registers it before importing the TypeScript entry.
const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./fetch-portal.worker.ts', import.meta.url).href)}); })`;
const worker = new Worker(boot, { eval: true, workerData: { txs: TXS, serverMs: SERVER_MS, token: TOKEN } });
const portal = await new Promise<{ port: number; caPem: string; host: string }>((resolve, reject) => {
  worker.once('message', resolve);
  worker.once('error', reject);
});
const route = (h: string) => (h === portal.host ? { address: '127.0.0.1', port: portal.port } : undefined);
const url = `https://${portal.host}/accounts/acc-1/statement`;
// A node KeyObject signed through node:crypto (jose 6 goes through WebCrypto, several times slower per signature).
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attested = createAttestedFetcher(
  { allowedHosts: [portal.host], extraCaPems: [portal.caPem], useSystemRoots: true, maxBodyBytes: 1 << 20, timeoutMs: 5000 },
  { now: () => new Date(), signer: nodeEs256Signer(privateKey, 'bench'), route },
);

// The baseline: the same request, same trust store (built once), same routing — no pinning, digests or signature.
const secureContext = createSecureContext({ ca: [...rootCertificates, portal.caPem], minVersion: 'TLSv1.2' });
const lookup = ((_h: string, o: unknown, cb?: (...a: unknown[]) => void) => {
  const done = (typeof o === 'function' ? o : cb) as (...a: unknown[]) => void;
  const all = typeof o === 'object' && o !== null && (o as { all?: boolean }).all === true;
  queueMicrotask(() => (all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4)));
}) as unknown as LookupFunction;
function plain(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const opts = { method: 'GET', headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json' }, agent: false, secureContext, servername: portal.host, port: portal.port, lookup };
    const req = request(url, opts as Parameters<typeof request>[1], (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const attestedOnce = async () => (await attested({ url, token: TOKEN })).body;
const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
for (let i = 0; i < 20; i++) {
  await plain();
  await attested({ url, token: TOKEN });
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

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
};
const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
const bodyBytes = (await attestedOnce()).length;
const r = {
  bench: 'attested-fetch-vs-plain-https',
  n: N,
  bodyBytes,
  serverMs: SERVER_MS,
  overheadMedianMs: +(median(a) - median(p)).toFixed(3),
  plainMedianMs: +median(p).toFixed(3),
  attestedMedianMs: +median(a).toFixed(3),
  plainMeanMs: +mean(p).toFixed(3),
  attestedMeanMs: +mean(a).toFixed(3),
  ratioMedian: +(median(a) / median(p)).toFixed(3),
  ratioMean: +(mean(a) / mean(p)).toFixed(3),
  goal: 1.1,
};
worker.postMessage('close');
await new Promise((r) => worker.once('exit', r));
if (v.json) process.stdout.write(`${JSON.stringify(r)}\n`);
else {
  process.stdout.write(
    `attested fetch vs plain HTTPS (fresh TLS each, n=${N}, body ${r.bodyBytes} bytes, server wait ${SERVER_MS} ms)\n` +
      `  plain     median ${r.plainMedianMs} ms  mean ${r.plainMeanMs} ms\n` +
      `  attested  median ${r.attestedMedianMs} ms  mean ${r.attestedMeanMs} ms\n` +
      `  overhead  median ${r.overheadMedianMs} ms per fetch\n` +
      `  ratio     median ${r.ratioMedian}x  mean ${r.ratioMean}x  (goal ≤ ${r.goal}x: ${r.ratioMedian <= r.goal ? 'met' : 'NOT met'})\n`,
  );
}
