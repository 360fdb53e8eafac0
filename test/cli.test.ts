// The `props attest` → `props verify` path as a user runs it: exit codes, JSON shape, one flipped byte anywhere signed.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBase64, toBase64, BODY_OFFSET, BODY_MRTD } from '../protocol/index.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'props.js');
const dir = mkdtempSync(join(tmpdir(), 'props-cli-'));
const bundlePath = join(dir, 'bundle.json');

function props(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json: () =>
      JSON.parse(r.stdout) as {
        ok: boolean;
        checks: { id: string; ok: boolean; code?: string }[];
        ear: Record<string, unknown>;
      },
  };
}

function variant(name: string, mutate: (b: Record<string, any>) => void): string {
  const b = JSON.parse(readFileSync(bundlePath, 'utf8')) as Record<string, any>;
  mutate(b);
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify(b));
  return p;
}

const failedCodes = (r: ReturnType<typeof props>) =>
  r
    .json()
    .checks.filter((c) => !c.ok)
    .map((c) => c.code);

describe('props attest / props verify', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [BIN, 'attest', '--out', bundlePath], { encoding: 'utf8' });
  });

  it('verifies with --allow-simulated: exit 0, ok, EAR warning', () => {
    const r = props('verify', bundlePath, '--allow-simulated', '--json');
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out.ok).toBe(true);
    expect(out.checks.length).toBeGreaterThan(10);
    expect((out.ear.submods as Record<string, Record<string, unknown>>)['props-enclave']?.['ear.status']).toBe(
      'warning',
    );
  });

  it('without --allow-simulated exits 1 naming simulated evidence', () => {
    const r = props('verify', bundlePath, '--json');
    expect(r.code).toBe(1);
    expect(failedCodes(r)).toContain('ERR_EVIDENCE_SIMULATED_NOT_ALLOWED');
  });

  it('prints a readable checklist without --json', () => {
    const r = props('verify', bundlePath, '--allow-simulated');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SIMULATED/);
    expect(r.stdout).toMatch(/✓ evidence.signature/);
  });

  it.each([
    [
      'quote MRTD byte',
      (b: Record<string, any>) => {
        const q = fromBase64(b.evidence.quote);
        q[BODY_OFFSET + BODY_MRTD] = (q[BODY_OFFSET + BODY_MRTD] ?? 0) ^ 1;
        b.evidence.quote = toBase64(q);
      },
      'ERR_EVIDENCE_SIGNATURE_INVALID',
    ],
    [
      'manifest model hash',
      (b: Record<string, any>) => (b.manifest.modelHash = `0x${'ab'.repeat(32)}`),
      'ERR_MANIFEST_MISMATCH',
    ],
    [
      'evidence manifest hash',
      (b: Record<string, any>) => (b.evidence.manifestHash = `0x${'ab'.repeat(32)}`),
      'ERR_EVIDENCE_REPORT_DATA_MISMATCH',
    ],
    [
      'result JWS payload',
      (b: Record<string, any>) => {
        const [h, p, s] = b.results[0].attestation.jws.split('.');
        const flipped = p[5] === 'A' ? 'B' : 'A';
        b.results[0].attestation.jws = `${h}.${p.slice(0, 5)}${flipped}${p.slice(6)}.${s}`;
      },
      'ERR_RESULT_SIGNATURE_INVALID',
    ],
    [
      'result EIP-712 signature',
      (b: Record<string, any>) => {
        const s: string = b.results[0].attestation.eip712.signature;
        b.results[0].attestation.eip712.signature = `${s.slice(0, 40)}${s[40] === 'f' ? 'e' : 'f'}${s.slice(41)}`;
      },
      'ERR_RESULT_EIP712_SIGNATURE_INVALID',
    ],
    [
      'result nonce claimed by the bundle',
      (b: Record<string, any>) => (b.results[0].request.nonce = `0x${'00'.repeat(32)}`),
      'ERR_RESULT_NONCE_MISMATCH',
    ],
  ])('one flipped byte (%s) exits 1 with its code', (name, mutate, code) => {
    const r = props('verify', variant(name.replace(/\W+/g, '-'), mutate), '--allow-simulated', '--json');
    expect(r.code).toBe(1);
    expect(failedCodes(r)).toContain(code);
  });

  it("the checklist shows each result's log inclusion (props attest logs its result)", () => {
    const r = props('verify', bundlePath, '--allow-simulated');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ results\[0\]\.log-inclusion/);
  });

  it('attack: a bundle whose log proofs were removed exits 1 (ERR_LOG_INCLUSION_MISSING)', () => {
    const r = props(
      'verify',
      variant('no-log-proofs', (b) => (b.logProofs = [])),
      '--allow-simulated',
      '--json',
    );
    expect(r.code).toBe(1);
    expect(failedCodes(r)).toEqual(['ERR_LOG_INCLUSION_MISSING']);
    expect(r.json().checks.find((c) => !c.ok)?.id).toBe('results[0].log-inclusion');
  });

  it('attack: a bundle holding one result twice exits 1 (ERR_BUNDLE_DUPLICATE_RESULT)', () => {
    const p = variant('result-twice', (b) => {
      b.results = [b.results[0], b.results[0]];
      b.logProofs = [b.logProofs[0], b.logProofs[0]];
    });
    const r = props('verify', p, '--allow-simulated', '--json');
    expect(r.code).toBe(1);
    expect(failedCodes(r)).toEqual(['ERR_BUNDLE_DUPLICATE_RESULT']);
  });

  it('a policy that relaxes log inclusion accepts the bundle without proofs and reports it relaxed', () => {
    const policy = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', 'verifier', 'policies', 'default.json'), 'utf8'),
    ) as Record<string, any>;
    policy.bundle.requireLogInclusion = false;
    const p = join(dir, 'relaxed-policy.json');
    writeFileSync(p, JSON.stringify(policy));
    const noProofs = variant('no-log-proofs-relaxed', (b) => (b.logProofs = []));
    const r = props('verify', noProofs, '--policy', p, '--allow-simulated', '--json');
    expect(r.code).toBe(0);
    const sub = (r.json().ear.submods as Record<string, Record<string, unknown>>)['props-enclave'];
    expect(sub?.['props.log-inclusion']).toBe('relaxed');
  });

  it('expired result with --now far ahead exits 1 (ERR_RESULT_EXPIRED)', () => {
    const r = props(
      'verify',
      bundlePath,
      '--allow-simulated',
      '--json',
      '--now',
      new Date(Date.now() + 30 * 86400_000).toISOString(),
    );
    expect(r.code).toBe(1);
    expect(failedCodes(r)).toContain('ERR_RESULT_EXPIRED');
  });

  it('truncated file exits 2 (ERR_JSON_MALFORMED)', () => {
    const p = join(dir, 'truncated.json');
    writeFileSync(p, readFileSync(bundlePath, 'utf8').slice(0, 500));
    const r = props('verify', p, '--json');
    expect(r.code).toBe(2);
    expect(failedCodes(r)).toEqual(['ERR_JSON_MALFORMED']);
  });

  it('oversized file exits 2 (ERR_INPUT_TOO_LARGE)', () => {
    const p = join(dir, 'huge.json');
    writeFileSync(p, ' '.repeat(33 * 1024 * 1024));
    const r = props('verify', p, '--json');
    expect(r.code).toBe(2);
    expect(failedCodes(r)).toEqual(['ERR_INPUT_TOO_LARGE']);
  });

  it('missing file and bad usage exit 2', () => {
    expect(props('verify', join(dir, 'nope.json'), '--json').code).toBe(2);
    expect(props('verify').code).toBe(2);
    expect(props('verify', bundlePath, '--bogus').code).toBe(2);
    expect(props('verify', bundlePath, '--now', 'yesterday').code).toBe(2);
  });

  it('a policy missing a field is refused (ERR_POLICY_MALFORMED), exit 2', () => {
    const p = join(dir, 'policy.json');
    writeFileSync(p, JSON.stringify({ version: 2, id: 'x', evidence: { allowSimulated: true } }));
    const r = props('verify', bundlePath, '--policy', p, '--json');
    expect(r.code).toBe(2);
    expect(failedCodes(r)).toEqual(['ERR_POLICY_MALFORMED']);
  });

  it('signs the EAR as a JWT with the verifier key on request', async () => {
    const { generateKeyPair, exportJWK, jwtVerify } = await import('jose');
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const keyPath = join(dir, 'verifier-key.json');
    writeFileSync(keyPath, JSON.stringify(await exportJWK(privateKey)));
    const r = props('verify', bundlePath, '--allow-simulated', '--json', '--ear-jwt', keyPath);
    expect(r.code).toBe(0);
    const { earJwt } = JSON.parse(r.stdout) as { earJwt: string };
    const { payload } = await jwtVerify(earJwt, publicKey);
    expect(payload.eat_profile).toBe('tag:github.com,2023:veraison/ear');
  });

  it('props manifest prints the code, model and policy hashes the booted enclave reports', () => {
    const r = spawnSync(process.execPath, [BIN, 'manifest', '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const m = JSON.parse(r.stdout) as { manifest: Record<string, string>; pipelineId: string };
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as { manifest: Record<string, string> };
    for (const k of ['codeHash', 'modelHash', 'policyHash', 'platform'])
      expect(m.manifest[k], k).toBe(bundle.manifest[k]);
  });
});
