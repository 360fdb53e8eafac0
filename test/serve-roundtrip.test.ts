// `props serve` as a user runs it: a data owner submits through the oracle client and grants a consent, a lender
// scores under it, and the job's audit bundle passes `props verify`. Real child process, real model, loopback.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../enclave/index.ts';
import { generateBorrowers } from '../sim/bank/generator.ts';
import { bankTrust, submitViaOracle } from '../testing/service.ts';

const BIN = fileURLToPath(new URL('../bin/props.js', import.meta.url));
const ADMIN = 'roundtrip-admin-token-0001';
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts `props <args>` and answers its start line. */
function start<T>(args: string[]): Promise<T> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, PROPS_ADMIN_TOKEN: ADMIN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise<T>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0] as string) as T);
    });
    child.once('exit', (c) => reject(new Error(`props ${args[0]} exited ${c}`)));
  });
}

describe('props serve round trip', () => {
  it("submission → consent → score → audit bundle that props verify accepts (keys from this host's sealed seed)", async () => {
    await roundTrip([], 'sealed-seed');
  }, 90_000);

  it('the same with fleet keys: props serve --kms, keys released by a props kms to the shipped pipeline', async () => {
    const kms = await start<{ url: string; role: string }>([
      'kms',
      '--port',
      '0',
      '--approve-shipped',
      '--allow-simulated',
      '--quiet',
    ]);
    expect(kms.role).toBe('first');
    const dir = mkdtempSync(join(tmpdir(), 'props-rt-kms-'));
    await roundTrip(['--kms', kms.url, '--seal', join(dir, 'instance.seal')], 'kms');
  }, 90_000);
});

async function roundTrip(extra: string[], keys: 'sealed-seed' | 'kms'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'props-rt-'));
  const bank = await bankTrust();
  const policyPath = join(dir, 'provenance.json');
  writeFileSync(policyPath, JSON.stringify(bank.policy));
  const info = await start<{ url: string; executionProvider: string; pages: string[]; keys: string }>([
    'serve',
    '--port',
    '0',
    '--quiet',
    '--provenance-policy',
    policyPath,
    ...extra,
  ]);
  const { url } = info;
  // It says where its keys come from: the KMS, or this host's sealed seed alone.
  expect(info.keys).toBe(keys);
  expect(info.executionProvider).toBe('cpu');
  expect(info.pages).toEqual(expect.arrayContaining(['/owner.html', '/auditor.html']));
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  const lender = (await (
    await post('/v1/admin/lenders', { name: 'rt' }, { authorization: `Bearer ${ADMIN}` })
  ).json()) as { lenderId: string; apiKey: string };
  const statement = generateBorrowers('roundtrip', 1)[0]!.statement;
  const sub = await submitViaOracle(url, bank.key, { lender: lender.lenderId, maxUses: 2, statement });
  expect([sub.submitStatus, sub.consentStatus]).toEqual([201, 201]);

  const nonce = `0x${'5a'.repeat(32)}`;
  const res = await post(
    '/v1/jobs',
    { consentId: sub.consentId, nonce, threshold: 600 },
    { authorization: `Bearer ${lender.apiKey}`, 'idempotency-key': 'roundtrip-request-0001' },
  );
  const job = (await res.json()) as { jobId: string; state: string; attestation?: { jws: string } };
  expect([200, 201], JSON.stringify(job)).toContain(res.status);
  expect(job.state).toBe('done');
  const body = JSON.parse(Buffer.from(job.attestation!.jws.split('.')[1]!, 'base64url').toString()) as {
    output: { reasonCodes: string[]; score: number };
    modelHash: string;
    nonce: string;
  };
  expect(body.nonce).toBe(nonce);
  expect(body.output.score).toBeGreaterThanOrEqual(0);

  const bundle = await (
    await fetch(`${url}/v1/jobs/${job.jobId}/bundle`, { headers: { authorization: `Bearer ${lender.apiKey}` } })
  ).json();
  const bundlePath = join(dir, 'bundle.json');
  writeFileSync(bundlePath, JSON.stringify(bundle));
  const v = spawnSync(process.execPath, [BIN, 'verify', bundlePath, '--allow-simulated', '--json'], {
    encoding: 'utf8',
  });
  expect(v.status, v.stdout).toBe(0);
  expect((JSON.parse(v.stdout) as { ok: boolean }).ok).toBe(true);

  // Another lender cannot use this consent; the data owner's record never appears in the answer.
  const other = (await (
    await post('/v1/admin/lenders', { name: 'other' }, { authorization: `Bearer ${ADMIN}` })
  ).json()) as { apiKey: string };
  const denied = await post(
    '/v1/jobs',
    { consentId: sub.consentId, nonce: `0x${'5b'.repeat(32)}` },
    { authorization: `Bearer ${other.apiKey}`, 'idempotency-key': 'roundtrip-request-0002' },
  );
  expect(((await denied.json()) as { code: string }).code).toBe('ERR_CONSENT_WRONG_LENDER');
  expect(JSON.stringify(job)).not.toContain(statement.accountId);
}
