// The fixtures README table, one test per row, through `props attest verify` (attestVerifyCommand), each asserting
// the verdict and the code that names the reason; then tampering with every signed region of every sample.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1 from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { makeAttestVerifyCommand } from '../attest-cli.ts';
import { fixturesDir } from './fixtures.ts';
import { DcapVerifier } from './dcap/verify.ts';
import { parseQuote } from './dcap/abi.ts';
import { checkEventLog, replayEventLog } from './dcap/eventlog.ts';
import { verifyCollateral } from './dcap/collateral.ts';
import { verifySnp } from './sev-snp/verify.ts';
import { verifyNitro } from './nitro/verify.ts';
import { verifyNvidia } from './nvidia/verify.ts';
import { parseCert } from './x509.ts';

const FIX = fixturesDir();
if (!FIX)
  console.warn(
    '[props] SKIPPED real attestation tests: fixtures folder not found (set PROPS_FIXTURES or provide ../shared/fixtures)',
  );
const A = (p: string) => join(FIX ?? '/nonexistent', 'attestation', p);
const bytes = (p: string) => new Uint8Array(readFileSync(A(p)));
const json = (p: string) => JSON.parse(readFileSync(A(p), 'utf8')) as Record<string, string>;
const POLICY_LENIENT = new URL('../policies/attestation-tcb-lenient.json', import.meta.url).pathname;

const D = 'intel-dcap-qvl-samples';
const TDX = [`${D}/tdx_quote`, `${D}/tdx_quote_collateral.json`, '2025-07-04T10:24:15Z'] as const;
const SGX = [`${D}/sgx_quote`, `${D}/sgx_quote_collateral.json`, '2025-07-04T10:28:44Z'] as const;
const OUTDATED_COL = `${D}/tdx_quote_outdated_collateral.json`;
/** "Real now" pinned to the day these tests were written: after every collateral window here. */
const WALL_CLOCK_NOW = '2026-11-22T03:00:00Z';

async function cli(
  ...args: string[]
): Promise<{ code: number; v: Record<string, unknown> & { errors: { code: string }[] } }> {
  let outText = '';
  const cmd = makeAttestVerifyCommand({ out: (s) => (outText += s), err: () => undefined });
  const code = await cmd.run(['verify', ...args, '--json']);
  return { code, v: JSON.parse(outText) };
}
const codes = (v: { errors: { code: string }[] }) => v.errors.map((e) => e.code);

describe.skipIf(!FIX)('fixtures table, through props attest verify', () => {
  it('Intel TDX v4 quote: UpToDate, accepted', async () => {
    const { code, v } = await cli(
      '--platform',
      'tdx',
      '--evidence',
      A(TDX[0]),
      '--collateral',
      A(TDX[1]),
      '--now',
      TDX[2],
    );
    expect(v).toMatchObject({ ok: true, platform: 'tdx', status: 'UpToDate', debug: false, errors: [] });
    expect(code).toBe(0);
  });

  it('Intel SGX v3 quote: ConfigurationAndSWHardeningNeeded, refused by the default policy', async () => {
    const { code, v } = await cli(
      '--platform',
      'sgx',
      '--evidence',
      A(SGX[0]),
      '--collateral',
      A(SGX[1]),
      '--now',
      SGX[2],
    );
    expect(v).toMatchObject({
      ok: false,
      status: 'ConfigurationAndSWHardeningNeeded',
      advisories: ['INTEL-SA-00289', 'INTEL-SA-00615'],
    });
    expect(codes(v)).toEqual(['ERR_TCB_STATUS_NOT_ALLOWED']);
    expect(code).toBe(1);
  });

  it('Intel SGX v3 quote: accepted by a policy that allows its status', async () => {
    const { code, v } = await cli(
      '--platform',
      'sgx',
      '--evidence',
      A(SGX[0]),
      '--collateral',
      A(SGX[1]),
      '--now',
      SGX[2],
      '--policy',
      POLICY_LENIENT,
    );
    expect(v).toMatchObject({ ok: true, status: 'ConfigurationAndSWHardeningNeeded', debug: false });
    expect(code).toBe(0);
  });

  it('Intel TDX v5, outdated platform: no matching TCB level', async () => {
    const { code, v } = await cli(
      '--platform',
      'tdx',
      '--evidence',
      A(`${D}/tdx_quote_outdated`),
      '--collateral',
      A(OUTDATED_COL),
      '--now',
      '2026-03-05T00:00:00Z',
    );
    expect(codes(v)).toEqual(['ERR_TCB_LEVEL_NOT_FOUND']);
    expect(code).toBe(1);
  });

  it.each([TDX, SGX, [`${D}/tdx_quote_outdated`, OUTDATED_COL, '']] as const)(
    'any quote at wall-clock now: collateral expired (%s)',
    async (q, c) => {
      const { code, v } = await cli(
        '--platform',
        q.includes('sgx') ? 'sgx' : 'tdx',
        '--evidence',
        A(q),
        '--collateral',
        A(c),
        '--now',
        WALL_CLOCK_NOW,
      );
      expect(codes(v)).toEqual(['ERR_COLLATERAL_EXPIRED']);
      expect(code).toBe(1);
    },
  );

  it('TDX v4 + dstack event log: UpToDate, and the event log replays to RTMR0-3', async () => {
    const { code, v } = await cli(
      '--platform',
      'tdx',
      '--evidence',
      A('dstack-tdx-quote-report/quote-report.json'),
      '--collateral',
      A(OUTDATED_COL),
      '--now',
      '2026-03-01T00:00:00Z',
      '--report-data',
      `0x1234${'00'.repeat(62)}`,
    );
    expect(v).toMatchObject({ ok: true, status: 'UpToDate' });
    expect(code).toBe(0);
    const report = json('dstack-tdx-quote-report/quote-report.json');
    const q = parseQuote(new Uint8Array(Buffer.from(report.quote as string, 'hex')));
    if (q.body.type !== 'td') throw new Error('not TDX');
    expect(replayEventLog(report.event_log).rtmrs).toEqual(
      q.body.report.rtmr.map((r) => `0x${Buffer.from(r).toString('hex')}`),
    );
  });

  it('TDX v5 (Google): UpToDate', async () => {
    const { code, v } = await cli(
      '--platform',
      'tdx',
      '--evidence',
      A('intel-tdx-go-tdx-guest/quote_v5_sample.dat'),
      '--collateral',
      A(OUTDATED_COL),
      '--now',
      '2026-03-01T00:00:00Z',
    );
    expect(v).toMatchObject({ ok: true, status: 'UpToDate' });
    expect(code).toBe(0);
  });

  it('TDX event log (CCEL): replay reproduces the quote RTMR0-3', () => {
    const q = parseQuote(bytes('intel-tdx-go-tdx-guest/ccel/cos-113-tdx-quote.dat'));
    if (q.body.type !== 'td') throw new Error('not TDX');
    const rtmrs = q.body.report.rtmr.map((r) => `0x${Buffer.from(r).toString('hex')}`);
    expect(checkEventLog(bytes('intel-tdx-go-tdx-guest/ccel/ccel_data.dat'), rtmrs).events.length).toBeGreaterThan(0);
  });

  it('AMD SEV-SNP, production: valid, debug not allowed by the guest', async () => {
    const { code, v } = await cli(
      '--platform',
      'sev-snp',
      '--evidence',
      A('amd-sev-snp-dstack/snp_report_extracted.bin'),
      '--certs',
      A('amd-sev-snp-dstack/sev_snp_vcek.pem'),
      A('amd-sev-snp-dstack/sev_snp_ask.pem'),
      A('amd-sev-snp-go-sev-guest/ask_ark_milan.pem'),
      '--now',
      '2026-07-01T00:00:00Z',
    );
    expect(v).toMatchObject({ ok: true, platform: 'sev-snp', debug: false, errors: [] });
    expect(v.reportData as string).toMatch(/^0x6174746573742d746573742d666978747572652d32303236/); // "attest-test-fixture-2026"
    expect(code).toBe(0);
  });

  it('AMD SEV-SNP, debug policy: signature valid, refused by policy (debug allowed)', async () => {
    const { code, v } = await cli(
      '--platform',
      'sev-snp',
      '--evidence',
      A('amd-sev-snp-go-sev-guest/attestation.bin'),
      '--certs',
      A('amd-sev-snp-go-sev-guest/vcek.der'),
      '--certs',
      A('amd-sev-snp-go-sev-guest/ask_ark_milan.pem'),
      '--now',
      '2022-10-01T00:00:00Z',
    );
    expect(v).toMatchObject({ ok: false, debug: true });
    expect(codes(v)).toEqual(['ERR_EVIDENCE_DEBUG']);
    expect(code).toBe(1);
  });

  it('AWS Nitro: valid', async () => {
    const { code, v } = await cli(
      '--platform',
      'nitro',
      '--evidence',
      A('aws-nitro-dstack/nitro_attestation.cose'),
      '--now',
      '2025-12-25T13:15:37.578Z',
    );
    expect(v).toMatchObject({ ok: true, platform: 'nitro', debug: false, errors: [] });
    expect((v.measurements as Record<string, string>).pcr0).toMatch(/^0x5cb70295/);
    expect(code).toBe(0);
  });

  it('AWS Nitro, debug: signature valid, refused by policy (PCR0-2 all zero)', async () => {
    const { code, v } = await cli(
      '--platform',
      'nitro',
      '--evidence',
      A('aws-nitro-dstack/nitro_attestation_dbg.cose'),
      '--now',
      '2025-12-25T08:20:46.577Z',
    );
    expect(v).toMatchObject({ ok: false, debug: true });
    expect(codes(v)).toEqual(['ERR_EVIDENCE_DEBUG']);
    expect(code).toBe(1);
  });

  it('NVIDIA H100 SPDM report: chain and P-384 signature valid (RIM/OCSP need the network, not checked)', async () => {
    const { code, v } = await cli(
      '--platform',
      'nvidia',
      '--evidence',
      A('nvidia-h100-nvtrust/hopperAttestationReport.txt'),
      '--certs',
      A('nvidia-h100-nvtrust/hopperCertChain.txt'),
      '--now',
      '2026-01-01T00:00:00Z',
      '--nonce',
      '0x931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb',
    );
    expect(v).toMatchObject({ ok: true, platform: 'nvidia', errors: [] });
    expect(code).toBe(0);
  });

  it('sim is handed to the sim verifier, not verified here', async () => {
    const { code, v } = await cli('--platform', 'sim', '--evidence', A(TDX[0]), '--now', TDX[2]);
    expect(codes(v)).toEqual(['ERR_PLATFORM_VERIFIER_UNAVAILABLE']);
    expect(code).toBe(2);
  });

  it('a platform the policy does not list is refused', async () => {
    const p = JSON.parse(readFileSync(new URL('../policies/attestation-default.json', import.meta.url), 'utf8'));
    delete p.evidence.platforms.nitro;
    const path = join(await import('node:os').then((o) => o.tmpdir()), `props-policy-${process.pid}.json`);
    (await import('node:fs')).writeFileSync(path, JSON.stringify(p));
    const { code, v } = await cli(
      '--platform',
      'nitro',
      '--evidence',
      A('aws-nitro-dstack/nitro_attestation.cose'),
      '--now',
      '2025-12-25T13:15:37.578Z',
      '--policy',
      path,
    );
    expect(codes(v)).toEqual(['ERR_EVIDENCE_PLATFORM_NOT_ALLOWED']);
    expect(code).toBe(1);
  });

  it('report_data binding: a different expected report_data is refused', async () => {
    const { v } = await cli(
      '--platform',
      'tdx',
      '--evidence',
      A(TDX[0]),
      '--collateral',
      A(TDX[1]),
      '--now',
      TDX[2],
      '--report-data',
      `0x${'11'.repeat(64)}`,
    );
    expect(codes(v)).toEqual(['ERR_EVIDENCE_REPORT_DATA_MISMATCH']);
  });

  it('usage errors exit 2', async () => {
    const cmd = makeAttestVerifyCommand({ out: () => undefined, err: () => undefined });
    expect(await cmd.run(['verify', '--platform', 'tdx'])).toBe(2);
    expect(await cmd.run(['verify', '--platform', 'tdx', '--evidence', '/nonexistent', '--now', TDX[2]])).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------------------
const flip = (b: Uint8Array, i: number): Uint8Array => {
  const c = b.slice();
  c[i] = (c[i] ?? 0) ^ 0x01;
  return c;
};

describe.skipIf(!FIX)('DCAP tampering (TDX v4 quote, offsets per abi.ts)', () => {
  const now = new Date(TDX[2]);
  const quote = () => bytes(TDX[0]);
  const col = () => json(TDX[1]);
  const v = new DcapVerifier();
  const SIG = 48 + 584 + 4; // signature data start
  const cases: [string, number, string][] = [
    ['header (QE vendor id)', 12, 'ERR_EVIDENCE_SIGNATURE_INVALID'],
    ['TD report body (MRTD)', 48 + 136, 'ERR_EVIDENCE_SIGNATURE_INVALID'],
    ['TD report_data', 48 + 520, 'ERR_EVIDENCE_SIGNATURE_INVALID'],
    ['quote signature', SIG + 5, 'ERR_EVIDENCE_SIGNATURE_INVALID'],
    ['attestation key', SIG + 64 + 3, 'ERR_QE_HASH_MISMATCH'],
    ['QE report', SIG + 134 + 64, 'ERR_QE_REPORT_SIGNATURE_INVALID'],
    ['QE report signature', SIG + 134 + 384 + 3, 'ERR_QE_REPORT_SIGNATURE_INVALID'],
    ['QE auth data', SIG + 134 + 384 + 64 + 2 + 1, 'ERR_QE_HASH_MISMATCH'],
  ];
  it.each(cases)('tampered %s is rejected', async (_name, off, code) => {
    await expect(v.verify(flip(quote(), off), col(), now)).rejects.toMatchObject({ code });
  });

  it('a TDX quote verifies from JSON inputs (collateral object + base64 CCEL is refused for another quote)', async () => {
    const { realVerifiers } = await import('./real.ts');
    await expect(realVerifiers.tdx.verify(quote(), { now, collateral: { collateral: col() } })).resolves.toMatchObject({
      status: 'UpToDate',
    });
    const ccel = readFileSync(A('intel-tdx-go-tdx-guest/ccel/ccel_data.dat')).toString('base64');
    await expect(
      realVerifiers.tdx.verify(quote(), { now, collateral: { collateral: col(), eventLog: ccel } }),
    ).rejects.toMatchObject({ code: 'ERR_EVENT_LOG_MISMATCH' });
  });

  it('tampered PCK certificate in the quote is rejected', async () => {
    const q = quote();
    const i = Buffer.from(q).indexOf('-----BEGIN CERTIFICATE-----') + 200;
    await expect(v.verify(flip(q, i), col(), now)).rejects.toMatchObject({ code: 'ERR_EVIDENCE_CHAIN_INVALID' });
  });

  it('truncated quote is rejected', async () => {
    await expect(v.verify(quote().slice(0, 600), col(), now)).rejects.toMatchObject({ code: 'ERR_EVIDENCE_TRUNCATED' });
  });

  it('missing collateral is rejected', async () => {
    await expect(v.verify(quote(), undefined, now)).rejects.toMatchObject({ code: 'ERR_COLLATERAL_MISSING' });
  });

  const colCases: [string, (c: Record<string, string>) => void, string][] = [
    [
      'TCB info body',
      (c) => (c.tcb_info = (c.tcb_info as string).replace('"pceId":"0000"', '"pceId":"0001"')),
      'ERR_COLLATERAL_SIGNATURE_INVALID',
    ],
    [
      'TCB info signature',
      (c) => (c.tcb_info_signature = `${(c.tcb_info_signature as string).slice(0, -2)}00`),
      'ERR_COLLATERAL_SIGNATURE_INVALID',
    ],
    [
      'QE identity body',
      (c) => (c.qe_identity = (c.qe_identity as string).replace('"miscselect":"00000000"', '"miscselect":"00000001"')),
      'ERR_COLLATERAL_SIGNATURE_INVALID',
    ],
    [
      'QE identity signature',
      (c) => (c.qe_identity_signature = `${(c.qe_identity_signature as string).slice(0, -2)}00`),
      'ERR_COLLATERAL_SIGNATURE_INVALID',
    ],
    [
      'root CA CRL signature',
      (c) => (c.root_ca_crl = `${(c.root_ca_crl as string).slice(0, -2)}00`),
      'ERR_CRL_INVALID',
    ],
    ['PCK CRL signature', (c) => (c.pck_crl = `${(c.pck_crl as string).slice(0, -2)}00`), 'ERR_CRL_INVALID'],
    ['garbage PCK CRL', (c) => (c.pck_crl = 'deadbeef'), 'ERR_CRL_INVALID'],
    ['garbage root CRL', (c) => (c.root_ca_crl = '30030201ff'), 'ERR_CRL_INVALID'],
    [
      'TCB info swapped for the SGX one',
      (c) => Object.assign(c, { tcb_info: json(SGX[1]).tcb_info, tcb_info_signature: json(SGX[1]).tcb_info_signature }),
      'ERR_FMSPC_MISMATCH',
    ],
  ];
  it.each(colCases)('tampered collateral (%s) is rejected', async (_name, mutate, code) => {
    const c = col();
    mutate(c);
    await expect(new DcapVerifier().verify(quote(), c, now)).rejects.toMatchObject({ code });
  });

  it('forged CRL (the real PCK CRL with its revocations stripped, re-signed by an attacker key) is refused', async () => {
    const c = col();
    const crl = AsnConvert.parse(Buffer.from(c.pck_crl as string, 'hex'), asn1.CertificateList);
    delete crl.tbsCertList.revokedCertificates;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    crl.signature = new Uint8Array(
      sign('sha256', Buffer.from(AsnConvert.serialize(crl.tbsCertList)), privateKey),
    ).buffer;
    c.pck_crl = Buffer.from(AsnConvert.serialize(crl)).toString('hex');
    await expect(verifyCollateral(c, now)).rejects.toMatchObject({ code: 'ERR_CRL_INVALID' });
  });

  it('a CRL past its nextUpdate is refused even when the TCB info is current', async () => {
    // PCK CRL nextUpdate is 2025-07-19 like the TCB info: any later now fails as expired collateral.
    await expect(verifyCollateral(col(), new Date('2025-07-20T00:00:00Z'))).rejects.toMatchObject({
      code: 'ERR_COLLATERAL_EXPIRED',
    });
  });

  it('cached collateral is still re-checked against now', async () => {
    const dv = new DcapVerifier();
    await dv.verify(quote(), col(), now);
    await expect(dv.verify(quote(), col(), new Date(WALL_CLOCK_NOW))).rejects.toMatchObject({
      code: 'ERR_COLLATERAL_EXPIRED',
    });
  });

  it('a quote chained to another root is refused', async () => {
    const other = parseCert(readFileSync(A('aws-nitro-dstack/AWS_NitroEnclaves_Root-G1.pem'), 'utf8'));
    await expect(new DcapVerifier({ root: other }).verify(quote(), col(), now)).rejects.toMatchObject({
      code: 'ERR_EVIDENCE_ROOT_UNTRUSTED',
    });
  });
});

describe.skipIf(!FIX)('more real DCAP samples (beyond the table)', () => {
  const quote = () => bytes('intel-tdx-go-tdx-guest/tdx_prod_quote_SPR_E4.dat');
  const col = () => json('intel-tdx-go-tdx-guest/dcap_qvl_collateral_2023.json');
  it("go-tdx-guest SPR E4 quote with 2023 PCS collateral: no matching TCB level (as in Google's own test)", async () => {
    await expect(new DcapVerifier().verify(quote(), col(), new Date('2023-07-01T01:00:00Z'))).rejects.toMatchObject({
      code: 'ERR_TCB_LEVEL_NOT_FOUND',
    });
  });
  it('the same after the QE identity nextUpdate: collateral expired', async () => {
    await expect(new DcapVerifier().verify(quote(), col(), new Date('2023-07-10T00:00:00Z'))).rejects.toMatchObject({
      code: 'ERR_COLLATERAL_EXPIRED',
    });
  });
  it('dstack tdx-lite quote: its event log (runtime digests left empty) replays to RTMR0-3', () => {
    const r = json('dstack-tdx-quote-report/tdx-lite-getquote.json');
    const q = parseQuote(new Uint8Array(Buffer.from(r.quote as string, 'hex')));
    if (q.body.type !== 'td') throw new Error('not TDX');
    expect(
      checkEventLog(
        r.event_log,
        q.body.report.rtmr.map((x) => `0x${Buffer.from(x).toString('hex')}`),
      ).events.length,
    ).toBeGreaterThan(20);
  });
});

describe.skipIf(!FIX)('event log tampering', () => {
  it('a tampered dstack runtime event is rejected', () => {
    const log = JSON.parse(json('dstack-tdx-quote-report/quote-report.json').event_log as string) as {
      event_payload: string;
    }[];
    const last = log[log.length - 1] as { event_payload: string };
    last.event_payload = `00${last.event_payload.slice(2)}`;
    expect(() => replayEventLog(log)).toThrow(expect.objectContaining({ code: 'ERR_EVENT_LOG_MISMATCH' }));
  });

  it('a tampered CCEL digest no longer reproduces the RTMRs', () => {
    const q = parseQuote(bytes('intel-tdx-go-tdx-guest/ccel/cos-113-tdx-quote.dat'));
    if (q.body.type !== 'td') throw new Error('not TDX');
    const rtmrs = q.body.report.rtmr.map((r) => `0x${Buffer.from(r).toString('hex')}`);
    const log = bytes('intel-tdx-go-tdx-guest/ccel/ccel_data.dat');
    const first = replayEventLog(log).events[0];
    const at = Buffer.from(log).indexOf(Buffer.from((first?.digest ?? '0x').slice(2), 'hex'));
    expect(() => checkEventLog(flip(log, at + 3), rtmrs)).toThrow(
      expect.objectContaining({ code: 'ERR_EVENT_LOG_MISMATCH' }),
    );
  });

  it('an event log given for a quote it does not belong to is rejected', async () => {
    const { v } = await cli(
      '--platform',
      'tdx',
      '--evidence',
      A(TDX[0]),
      '--collateral',
      A(TDX[1]),
      '--now',
      TDX[2],
      '--event-log',
      A('intel-tdx-go-tdx-guest/ccel/ccel_data.dat'),
    );
    expect(codes(v)).toEqual(['ERR_EVENT_LOG_MISMATCH']);
  });
});

describe.skipIf(!FIX)('SEV-SNP tampering', () => {
  const report = () => bytes('amd-sev-snp-dstack/snp_report_extracted.bin');
  const certs = () => [
    bytes('amd-sev-snp-dstack/sev_snp_vcek.pem'),
    bytes('amd-sev-snp-dstack/sev_snp_ask.pem'),
    bytes('amd-sev-snp-go-sev-guest/ask_ark_milan.pem'),
  ];
  const now = new Date('2026-07-01T00:00:00Z');
  it.each([
    ['policy (debug bit)', 0x0a],
    ['report_data', 0x50],
    ['measurement', 0x90],
    ['host_data', 0xc0],
    ['chip_id', 0x1a0],
    ['signature r', 0x2a0 + 1],
    ['signature s', 0x2a0 + 72 + 1],
  ])('tampered %s is rejected', (_n, off) => {
    expect(() => verifySnp(flip(report(), off), certs(), now)).toThrow(
      expect.objectContaining({ code: 'ERR_EVIDENCE_SIGNATURE_INVALID' }),
    );
  });
  it("another chip's VCEK is rejected", () => {
    expect(() =>
      verifySnp(
        report(),
        [bytes('amd-sev-snp-go-sev-guest/vcek.der'), bytes('amd-sev-snp-go-sev-guest/ask_ark_milan.pem')],
        new Date('2026-07-01'),
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_EVIDENCE_SIGNATURE_INVALID' }));
  });
  it('a chain not ending at the pinned ARK is rejected', () => {
    expect(() => verifySnp(report(), [bytes('amd-sev-snp-dstack/sev_snp_vcek.pem')], now)).toThrow(
      expect.objectContaining({ code: 'ERR_EVIDENCE_CHAIN_INVALID' }),
    );
  });
  it('a VCEK outside its validity period is rejected', () => {
    expect(() => verifySnp(report(), certs(), new Date('2026-01-01'))).toThrow(
      expect.objectContaining({ code: 'ERR_EVIDENCE_CERT_EXPIRED' }),
    );
  });
  it('verifies with the certificates in an SNP certificate table (configfs-tsm auxblob layout)', () => {
    const ders = certs().flatMap((b) =>
      (new TextDecoder().decode(b).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
        (p) => new Uint8Array(parseCert(p).raw),
      ),
    );
    const head = (ders.length + 1) * 24;
    const table = new Uint8Array(head + ders.reduce((n, d) => n + d.length, 0));
    const dv = new DataView(table.buffer);
    let off = head;
    ders.forEach((d, i) => {
      table.fill(i + 1, i * 24, i * 24 + 16); // GUIDs are not trusted; any non-zero value
      dv.setUint32(i * 24 + 16, off, true);
      dv.setUint32(i * 24 + 20, d.length, true);
      table.set(d, off);
      off += d.length;
    });
    expect(verifySnp(report(), [table], now).debug).toBe(false);
    expect(() => verifySnp(report(), [table.subarray(0, 30)], now)).toThrow(
      expect.objectContaining({ code: 'ERR_INPUT_MALFORMED' }),
    );
  });
  it('missing certificates are reported as missing collateral', () => {
    expect(() => verifySnp(report(), [], now)).toThrow(expect.objectContaining({ code: 'ERR_COLLATERAL_MISSING' }));
  });
});

describe.skipIf(!FIX)('Nitro tampering', () => {
  const doc = () => bytes('aws-nitro-dstack/nitro_attestation.cose');
  const now = new Date('2025-12-25T13:15:37.578Z');
  it('tampered payload (PCR0) is rejected', () => {
    expect(() => verifyNitro(flip(doc(), 104), now)).toThrow(
      expect.objectContaining({ code: 'ERR_EVIDENCE_SIGNATURE_INVALID' }),
    );
  });
  it('tampered signature is rejected', () => {
    const d = doc();
    expect(() => verifyNitro(flip(d, d.length - 5), now)).toThrow(
      expect.objectContaining({ code: 'ERR_EVIDENCE_SIGNATURE_INVALID' }),
    );
  });
  it('tampered protected header (alg) is rejected', () => {
    expect(() => verifyNitro(flip(doc(), 5), now)).toThrow(expect.objectContaining({ code: 'ERR_EVIDENCE_MALFORMED' }));
  });
  it('a document chained to another root is rejected', () => {
    const other = parseCert(readFileSync(A('nvidia-h100-nvtrust/verifier_device_root.pem'), 'utf8'));
    expect(() => verifyNitro(doc(), now, other)).toThrow(
      expect.objectContaining({ code: 'ERR_EVIDENCE_ROOT_UNTRUSTED' }),
    );
  });
  it('a document checked after its leaf certificate expired is rejected', () => {
    expect(() => verifyNitro(doc(), new Date('2025-12-26T00:00:00Z'))).toThrow(
      expect.objectContaining({ code: 'ERR_EVIDENCE_CERT_EXPIRED' }),
    );
  });
  it('a document older than the policy allows is refused', async () => {
    const { v } = await cli(
      '--platform',
      'nitro',
      '--evidence',
      A('aws-nitro-dstack/nitro_attestation.cose'),
      '--now',
      '2025-12-25T14:00:00Z',
    );
    expect(codes(v)).toEqual(['ERR_COLLATERAL_TOO_OLD']);
  });
});

describe.skipIf(!FIX)('NVIDIA tampering', () => {
  const raw = () =>
    new Uint8Array(
      Buffer.from(readFileSync(A('nvidia-h100-nvtrust/hopperAttestationReport.txt'), 'utf8').trim(), 'hex'),
    );
  const chain = () => [bytes('nvidia-h100-nvtrust/hopperCertChain.txt')];
  const now = new Date('2026-01-01');
  it.each([
    ['request nonce', 10],
    ['a measurement block', 37 + 8 + 20],
    ['opaque data', 37 + 8 + 3520 + 32 + 2 + 30],
    ['signature', 8234 / 2 - 10],
  ])('tampered %s is rejected', (_n, off) => {
    expect(() => verifyNvidia(flip(raw(), off), chain(), now)).toThrow(
      expect.objectContaining({ code: 'ERR_EVIDENCE_SIGNATURE_INVALID' }),
    );
  });
  it('the 8 HOPPER evidences of nvtrust ppcie verify with their chains and nonces', () => {
    const list = JSON.parse(readFileSync(A('nvidia-h100-nvtrust/ppcie_gpu_evidence.json'), 'utf8')) as {
      evidence: string;
      certificate: string;
      nonce: string;
      driver_version: string;
    }[];
    expect(list).toHaveLength(8);
    for (const e of list) {
      const c = verifyNvidia(
        new Uint8Array(Buffer.from(e.evidence, 'base64')),
        [new Uint8Array(Buffer.from(e.certificate, 'base64'))],
        now,
        new Uint8Array(Buffer.from(e.nonce, 'hex')),
      );
      expect(c.driverVersion).toBe(e.driver_version);
    }
  });
  it('verifies from the JSON inputs an audit bundle carries (PEM text certs, hex nonce)', async () => {
    const { realVerifiers } = await import('./real.ts');
    const claims = await realVerifiers.nvidia.verify(raw(), {
      now,
      collateral: {
        certs: [readFileSync(A('nvidia-h100-nvtrust/hopperCertChain.txt'), 'utf8')],
        expectedNonce: '0x931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb',
      },
    });
    expect(claims.platform).toBe('nvidia');
  });
  it('a report answering another nonce is rejected', () => {
    expect(() => verifyNvidia(raw(), chain(), now, new Uint8Array(32))).toThrow(
      expect.objectContaining({ code: 'ERR_EVIDENCE_NONCE_MISMATCH' }),
    );
  });
  it('a chain with a certificate removed is rejected', () => {
    const pems =
      readFileSync(A('nvidia-h100-nvtrust/hopperCertChain.txt'), 'utf8').match(
        /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
      ) ?? [];
    const broken = [pems[0], ...pems.slice(2)].join('\n');
    expect(() => verifyNvidia(raw(), [new TextEncoder().encode(broken)], now)).toThrow(
      expect.objectContaining({ code: 'ERR_EVIDENCE_CHAIN_INVALID' }),
    );
  });
});
