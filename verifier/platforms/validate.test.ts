// Policy sections for real platforms: the shipped files parse, every field is required, and each policy knob
// refuses with its own code on real, authenticated evidence.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy, parsePolicyText, POLICY_VERSION, type Policy } from '../policy.ts';
import { appraise } from './appraise.ts';
import { fixturesDir } from './fixtures.ts';
import { makeRealVerifiers } from './real.ts';

const text = (f: string) => readFileSync(new URL(`../policies/${f}`, import.meta.url), 'utf8');
const defaultPolicy = (): Policy => parsePolicyText(text('attestation-default.json'));

describe('attestation policy files', () => {
  it.each(['attestation-default.json', 'attestation-tcb-lenient.json'])('%s parses', (f) => {
    expect(parsePolicyText(text(f)).version).toBe(POLICY_VERSION);
  });

  it('a section with a missing field is refused', () => {
    const p = JSON.parse(text('attestation-default.json'));
    delete p.evidence.platforms.tdx.maxCollateralAgeSeconds;
    expect(() => parsePolicy(p)).toThrow(expect.objectContaining({ code: 'ERR_POLICY_MALFORMED' }));
  });

  it('Revoked can never be allowed', () => {
    const p = JSON.parse(text('attestation-default.json'));
    p.evidence.platforms.tdx.tcbStatuses = ['UpToDate', 'Revoked'];
    expect(() => parsePolicy(p)).toThrow(expect.objectContaining({ code: 'ERR_POLICY_MALFORMED' }));
  });

  it('an unknown key in a section is refused', () => {
    const p = JSON.parse(text('attestation-default.json'));
    p.evidence.platforms.nitro.pcr3 = 'any';
    expect(() => parsePolicy(p)).toThrow(expect.objectContaining({ code: 'ERR_POLICY_MALFORMED' }));
  });

  it('log inclusion is a required field: a policy without the bundle section is refused', () => {
    const p = JSON.parse(text('attestation-default.json'));
    delete p.bundle;
    expect(() => parsePolicy(p)).toThrow(expect.objectContaining({ code: 'ERR_POLICY_MALFORMED' }));
  });

  it('a version 1 policy, written before the bundle section, is refused as an unknown version', () => {
    const p = JSON.parse(text('attestation-default.json'));
    delete p.bundle;
    p.version = 1;
    expect(() => parsePolicy(p)).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_VERSION' }));
  });
});

const FIX = fixturesDir();
if (!FIX) console.warn('[props] SKIPPED attestation policy tests on real evidence: fixtures folder not found');
const A = (p: string) => join(FIX ?? '/nonexistent', 'attestation', p);

describe.skipIf(!FIX)('policy knobs on real evidence', () => {
  const verifiers = makeRealVerifiers();
  const tdx = (policy: Policy, extra: { eventLog?: unknown } = {}) =>
    appraise({
      platform: 'tdx',
      evidence: new Uint8Array(readFileSync(A('intel-dcap-qvl-samples/tdx_quote'))),
      inputs: {
        collateral: JSON.parse(readFileSync(A('intel-dcap-qvl-samples/tdx_quote_collateral.json'), 'utf8')),
        ...extra,
      },
      policy,
      now: new Date('2025-07-04T10:24:15Z'),
      verifiers,
    });
  const codes = (v: { errors: { code: string }[] }) => v.errors.map((e) => e.code);

  it('an MRTD outside the pin list is refused', async () => {
    const p = defaultPolicy();
    p.evidence.platforms.tdx!.mrtd = [`0x${'00'.repeat(48)}`];
    expect(codes(await tdx(p))).toEqual(['ERR_EVIDENCE_MEASUREMENT_NOT_ALLOWED']);
  });

  it('a pinned MRTD that matches is accepted and no longer reported as unpinned', async () => {
    const first = await tdx(defaultPolicy());
    const p = defaultPolicy();
    p.evidence.platforms.tdx!.mrtd = [first.measurements.mrtd as string];
    const v = await tdx(p);
    expect(v.ok).toBe(true);
    expect(v.unpinned).not.toContain('mrtd');
  });

  it('collateral older than the policy allows is refused', async () => {
    const p = defaultPolicy();
    p.evidence.platforms.tdx!.maxCollateralAgeSeconds = 3600;
    expect(codes(await tdx(p))).toEqual(['ERR_COLLATERAL_TOO_OLD']);
  });

  it('a forbidden advisory is refused', async () => {
    const p = defaultPolicy();
    p.evidence.platforms.sgx = {
      ...p.evidence.platforms.sgx!,
      tcbStatuses: ['ConfigurationAndSWHardeningNeeded'],
      forbiddenAdvisories: ['INTEL-SA-00615'],
    };
    const v = await appraise({
      platform: 'sgx',
      evidence: new Uint8Array(readFileSync(A('intel-dcap-qvl-samples/sgx_quote'))),
      inputs: { collateral: JSON.parse(readFileSync(A('intel-dcap-qvl-samples/sgx_quote_collateral.json'), 'utf8')) },
      policy: p,
      now: new Date('2025-07-04T10:28:44Z'),
      verifiers,
    });
    expect(codes(v)).toEqual(['ERR_TCB_STATUS_NOT_ALLOWED']);
  });

  it('requireEventLog refuses a quote without an event log', async () => {
    const p = defaultPolicy();
    p.evidence.platforms.tdx!.requireEventLog = true;
    expect(codes(await tdx(p))).toEqual(['ERR_EVENT_LOG_MISMATCH']);
  });

  it('SEV-SNP below the minimum TCB is refused', async () => {
    const p = defaultPolicy();
    p.evidence.platforms['sev-snp']!.minTcb.snp = 200;
    const v = await appraise({
      platform: 'sev-snp',
      evidence: new Uint8Array(readFileSync(A('amd-sev-snp-dstack/snp_report_extracted.bin'))),
      inputs: {
        certs: [
          'amd-sev-snp-dstack/sev_snp_vcek.pem',
          'amd-sev-snp-dstack/sev_snp_ask.pem',
          'amd-sev-snp-go-sev-guest/ask_ark_milan.pem',
        ].map((f) => new Uint8Array(readFileSync(A(f)))),
      },
      policy: p,
      now: new Date('2026-07-01'),
      verifiers,
    });
    expect(codes(v)).toEqual(['ERR_TCB_TOO_LOW']);
  });

  it('debug is refused when the global switch is off even if the section allows it', async () => {
    const p = defaultPolicy();
    p.evidence.platforms.nitro!.allowDebug = true;
    const run = () =>
      appraise({
        platform: 'nitro',
        evidence: new Uint8Array(readFileSync(A('aws-nitro-dstack/nitro_attestation_dbg.cose'))),
        inputs: {},
        policy: p,
        now: new Date('2025-12-25T08:20:46.577Z'),
        verifiers,
      });
    expect(codes(await run())).toEqual(['ERR_EVIDENCE_DEBUG']);
    p.evidence.allowDebug = true;
    expect((await run()).ok).toBe(true);
  });

  it('an NVIDIA driver version outside the list is refused', async () => {
    const p = defaultPolicy();
    p.evidence.platforms.nvidia!.driverVersions = ['535.104.05'];
    const v = await appraise({
      platform: 'nvidia',
      evidence: new Uint8Array(readFileSync(A('nvidia-h100-nvtrust/hopperAttestationReport.txt'))),
      inputs: { certs: [new Uint8Array(readFileSync(A('nvidia-h100-nvtrust/hopperCertChain.txt')))] },
      policy: p,
      now: new Date('2026-01-01'),
      verifiers,
    });
    expect(codes(v)).toEqual(['ERR_EVIDENCE_MEASUREMENT_NOT_ALLOWED']);
  });
});

describe.skipIf(!FIX)('TD attributes', () => {
  it('reserved TD attribute bits, SEPT_VE_DISABLE off, or a service TD are refused', async () => {
    const { validateTdx } = await import('./dcap/validate.ts');
    const { DcapVerifier } = await import('./dcap/verify.ts');
    const { claims } = await new DcapVerifier().verify(
      new Uint8Array(readFileSync(A('intel-dcap-qvl-samples/tdx_quote'))),
      JSON.parse(readFileSync(A('intel-dcap-qvl-samples/tdx_quote_collateral.json'), 'utf8')),
      new Date('2025-07-04T10:24:15Z'),
    );
    const p = defaultPolicy().evidence.platforms.tdx!;
    const opts = { now: new Date('2025-07-04T10:24:15Z'), eventLogReplayed: false };
    expect(validateTdx(claims, p, opts)).toEqual([]);
    const withAttrs = (hex: string) => validateTdx({ ...claims, tdAttributes: `0x${hex}` }, p, opts).map((e) => e.code);
    expect(withAttrs('0000000000000000')).toEqual(['ERR_TD_ATTRIBUTES_NOT_ALLOWED']); // SEPT_VE_DISABLE off
    expect(withAttrs('0000011000000000')).toEqual(['ERR_TD_ATTRIBUTES_NOT_ALLOWED']); // reserved SEC bit 16
    expect(withAttrs('0000003000000000')).toEqual(['ERR_TD_ATTRIBUTES_NOT_ALLOWED']); // reserved bit 29
    expect(withAttrs('0000001000000080')).toEqual([]); // SEPT_VE_DISABLE + PERFMON
    expect(
      validateTdx(
        { ...claims, measurements: { ...claims.measurements, mrServiceTd: `0x${'01'.repeat(48)}` } },
        p,
        opts,
      ).map((e) => e.code),
    ).toEqual(['ERR_TD_ATTRIBUTES_NOT_ALLOWED']);
  });
});
