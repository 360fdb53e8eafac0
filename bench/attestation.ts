// Attestation verification time per platform, side by side with plain @phala/dcap-qvl on the same quotes, in one
// run. Usage: npx tsx bench/attestation.ts [--json] [--iterations N]. Needs the shared fixtures (see fixtures.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fixturesDir } from '../verifier/platforms/fixtures.ts';
import { DcapVerifier } from '../verifier/platforms/dcap/verify.ts';
import { verifySnp } from '../verifier/platforms/sev-snp/verify.ts';
import { verifyNitro } from '../verifier/platforms/nitro/verify.ts';
import { verifyNvidia } from '../verifier/platforms/nvidia/verify.ts';

const require = createRequire(import.meta.url);
const dcapQvl = require('@phala/dcap-qvl') as {
  verify(q: Uint8Array, c: unknown, nowSecs: number): { status: string };
};

const args = process.argv.slice(2);
const asJson = args.includes('--json');
const itIdx = args.indexOf('--iterations');
const N = itIdx >= 0 ? Number(args[itIdx + 1]) : 200;

const FIX = fixturesDir();
if (!FIX) {
  console.error('bench/attestation: fixtures folder not found (set PROPS_FIXTURES); nothing measured');
  process.exit(0);
}
const A = (p: string) => join(FIX, 'attestation', p);
const bytes = (p: string) => new Uint8Array(readFileSync(A(p)));
const json = (p: string) => JSON.parse(readFileSync(A(p), 'utf8')) as unknown;

/** Mean milliseconds per call over n calls, after a short warm-up. */
async function time(n: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(5, n); i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t0) / n;
}

type Row = {
  case: string;
  props_cached_ms: number;
  props_cold_ms?: number;
  dcap_qvl_ms?: number;
  speedup_vs_dcap_qvl?: number;
};
const rows: Row[] = [];

const dcapCases = [
  {
    name: 'TDX v4 (tdx_quote)',
    q: 'intel-dcap-qvl-samples/tdx_quote',
    c: 'intel-dcap-qvl-samples/tdx_quote_collateral.json',
    now: '2025-07-04T10:24:15Z',
  },
  {
    name: 'TDX v5 (go-tdx-guest)',
    q: 'intel-tdx-go-tdx-guest/quote_v5_sample.dat',
    c: 'intel-dcap-qvl-samples/tdx_quote_outdated_collateral.json',
    now: '2026-03-01T00:00:00Z',
  },
  {
    name: 'SGX v3 (sgx_quote)',
    q: 'intel-dcap-qvl-samples/sgx_quote',
    c: 'intel-dcap-qvl-samples/sgx_quote_collateral.json',
    now: '2025-07-04T10:28:44Z',
  },
];
for (const d of dcapCases) {
  const q = bytes(d.q);
  const col = json(d.c);
  const now = new Date(d.now);
  const warm = new DcapVerifier();
  await warm.verify(q, col, now); // collateral and PCK chain checked once, then cached
  const cached = await time(N, () => warm.verify(q, col, now));
  const cold = await time(Math.max(5, N / 10), () => new DcapVerifier().verify(q, col, now));
  const ref = await time(Math.max(5, N / 10), () => dcapQvl.verify(q, col, Math.floor(now.getTime() / 1000)));
  rows.push({
    case: d.name,
    props_cached_ms: cached,
    props_cold_ms: cold,
    dcap_qvl_ms: ref,
    speedup_vs_dcap_qvl: ref / cached,
  });
}

const snpCerts = [
  bytes('amd-sev-snp-dstack/sev_snp_vcek.pem'),
  bytes('amd-sev-snp-dstack/sev_snp_ask.pem'),
  bytes('amd-sev-snp-go-sev-guest/ask_ark_milan.pem'),
];
const snp = bytes('amd-sev-snp-dstack/snp_report_extracted.bin');
rows.push({
  case: 'SEV-SNP (chain + report)',
  props_cached_ms: await time(N, () => verifySnp(snp, snpCerts, new Date('2026-07-01'))),
});
const nitro = bytes('aws-nitro-dstack/nitro_attestation.cose');
rows.push({
  case: 'Nitro (chain + COSE)',
  props_cached_ms: await time(N, () => verifyNitro(nitro, new Date('2025-12-25T13:15:37.578Z'))),
});
const nv = bytes('nvidia-h100-nvtrust/hopperAttestationReport.txt');
const nvChain = [bytes('nvidia-h100-nvtrust/hopperCertChain.txt')];
rows.push({
  case: 'NVIDIA H100 (chain + SPDM)',
  props_cached_ms: await time(N, () => verifyNvidia(nv, nvChain, new Date('2026-01-01'))),
});

if (asJson) {
  process.stdout.write(`${JSON.stringify({ iterations: N, node: process.version, rows })}\n`);
} else {
  const f = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(3));
  console.log(
    `attestation verify, mean ms per call (${N} iterations; cold/dcap-qvl ${Math.max(5, N / 10)}), node ${process.version}`,
  );
  console.log(
    'case'.padEnd(30),
    'props(cached)'.padStart(14),
    'props(cold)'.padStart(12),
    'dcap-qvl'.padStart(10),
    'ratio'.padStart(8),
  );
  for (const r of rows)
    console.log(
      r.case.padEnd(30),
      f(r.props_cached_ms).padStart(14),
      f(r.props_cold_ms).padStart(12),
      f(r.dcap_qvl_ms).padStart(10),
      (r.speedup_vs_dcap_qvl ? `${r.speedup_vs_dcap_qvl.toFixed(1)}x` : '-').padStart(8),
    );
  console.log(
    'props(cached): collateral + PCK chain verified once and cached by digest; per quote: QE report + quote P-256 signatures (node:crypto), QE identity, TCB match.',
  );
  console.log(
    'props(cold): a fresh DcapVerifier, so collateral (CRLs, TCB info, QE identity) is re-authenticated; certificate-link signatures are memoised process-wide.',
  );
  console.log(
    'SEV-SNP, Nitro, NVIDIA: certificates parsed and dated, report signature verified on every call (link signatures memoised).',
  );
}
