// Provenance verification costs, side by side in one run: TLSNotary presentation verify (raw wasm vs the full
// verifier with policy), Reclaim claim recovery, source JWS and attested-fetch record checks.
// Usage: npx tsx bench/provenance.ts [--json] [--iterations N]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toBase64 } from '../protocol/index.ts';
import {
  loadTlsnWasm,
  presentationBytes,
  verifyAttestedFetch,
  verifyReclaim,
  verifySignedSource,
  verifyTlsn,
} from '../verifier/provenance/index.ts';
import {
  basePolicy,
  FIXTURES,
  HAVE_RECLAIM,
  HAVE_TLSN,
  makeAttestedFetch,
  makeKey,
  makeSignedSource,
  RECLAIM_CASES,
  TLSN_CASES,
} from '../testing/provenance.ts';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, iterations: { type: 'string' } } });
const N = Math.max(3, Number(values.iterations ?? 15));

type Stat = {
  name: string;
  n: number;
  firstMs: number;
  medianMs: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
};

async function measure(name: string, fn: () => Promise<unknown> | unknown, n = N): Promise<Stat> {
  const c0 = performance.now();
  await fn(); // first call, reported apart: JIT and wasm page-in make it the slow one
  const first = performance.now() - c0;
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    name,
    n,
    firstMs: r(first),
    medianMs: r(ts[Math.floor(ts.length / 2)]!),
    meanMs: r(ts.reduce((a, b) => a + b, 0) / ts.length),
    minMs: r(ts[0]!),
    maxMs: r(ts[ts.length - 1]!),
  };
}

const stats: Stat[] = [];
const notes: string[] = [];

const t0 = performance.now();
const wasm = await loadTlsnWasm();
const wasmInitMs = Math.round((performance.now() - t0) * 10) / 10;

if (HAVE_TLSN) {
  for (const c of TLSN_CASES.filter((x) => x.expect === 'valid')) {
    const hex = readFileSync(join(FIXTURES, 'tlsn', c.file), 'utf8');
    const bytes = presentationBytes(hex);
    const now = new Date(c.time * 1000);
    stats.push(
      await measure(`tlsn raw wasm deserialize+verify ${c.file} (${bytes.length} B)`, () => {
        const p = wasm.Presentation.deserialize(bytes);
        try {
          return p.verify();
        } finally {
          p.free();
        }
      }),
    );
    stats.push(
      await measure(`tlsn verifyTlsn (policy, ranges, digest) ${c.file}`, () =>
        verifyTlsn(hex, { policy: basePolicy(), now }),
      ),
    );
  }
} else notes.push(`tlsn fixtures not found under ${FIXTURES}: skipped`);

if (HAVE_RECLAIM) {
  for (const c of RECLAIM_CASES) {
    const claim = JSON.parse(readFileSync(join(FIXTURES, 'reclaim', c.file), 'utf8')) as unknown;
    stats.push(
      await measure(`reclaim verifyReclaim ${c.file}`, () =>
        verifyReclaim(claim, { policy: basePolicy(), now: new Date(c.time * 1000) }),
      ),
    );
  }
} else notes.push(`reclaim fixtures not found under ${FIXTURES}: skipped`);

const source = await makeKey('bank-2026');
const jws = await makeSignedSource(source);
const ssPolicy = basePolicy({
  signedSource: {
    hosts: 'any',
    algorithms: ['ES256'],
    jwks: { keys: [source.jwk] },
    kids: [{ kid: source.jwk.kid, issuers: ['bank.example'] }],
  },
});
stats.push(
  await measure('signed-source verifySignedSource (jose ES256)', () =>
    verifySignedSource(jws, { policy: ssPolicy, now: new Date(1_790_000_100_000) }),
  ),
);

const enclave = await makeKey('enclave-jws-1');
const af = await makeAttestedFetch(enclave);
const afPolicy = basePolicy({
  attestedFetch: { hosts: 'any', algorithms: ['ES256'], enclaveKeys: [enclave.jwk], statuses: [200] },
});
const afBody = toBase64(af.body);
stats.push(
  await measure('attested-fetch verifyAttestedFetch (jose ES256 + body digest)', () =>
    verifyAttestedFetch({ jws: af.jws, body: afBody }, { policy: afPolicy, now: new Date('2026-09-21T12:05:00Z') }),
  ),
);

const median = (prefix: string) => {
  const xs = stats.filter((s) => s.name.startsWith(prefix)).map((s) => s.medianMs);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
};
const tlsnRaw = median('tlsn raw');
const tlsnFull = median('tlsn verifyTlsn');
const reclaim = median('reclaim');
const jwsMs = median('signed-source');
const afMs = median('attested-fetch');
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const ratios = {
  'tlsn full / tlsn raw wasm (policy overhead)': ratio(tlsnFull, tlsnRaw),
  'tlsn / reclaim': ratio(tlsnFull, reclaim),
  'tlsn / signed-source': ratio(tlsnFull, jwsMs),
  'tlsn / attested-fetch': ratio(tlsnFull, afMs),
  'reclaim / signed-source': ratio(reclaim, jwsMs),
};

const report = {
  bench: 'provenance',
  node: process.version,
  iterations: N,
  wasmInitMs,
  stats,
  meanOfMediansMs: { tlsnRaw, tlsnFull, reclaim, signedSource: jwsMs, attestedFetch: afMs },
  ratios,
  notes,
};
if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
else {
  console.log(`provenance verification (node ${process.version}, ${N} iterations, median ms)`);
  console.log(`tlsn wasm init (once per process): ${wasmInitMs} ms`);
  for (const s of stats)
    console.log(
      `${s.medianMs.toFixed(2).padStart(9)}  (first ${s.firstMs.toFixed(2)}, min ${s.minMs.toFixed(2)}, max ${s.maxMs.toFixed(2)})  ${s.name}`,
    );
  for (const [k, v] of Object.entries(ratios)) console.log(`ratio ${k}: ${v}×`);
  for (const n of notes) console.log(`note: ${n}`);
}
