// The data-owner page in a real browser against `props serve`: it refuses a simulated enclave until the owner
// accepts one, then encrypts a bank-signed statement to the attested key, shows the enclave's receipt, and grants a
// lender a consent. Screenshots are kept under props-out/test-artifacts/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { REPO_ROOT } from '../../enclave/index.ts';
import { generateBorrowers } from '../../sim/bank/generator.ts';
import { makeSignedSource } from '../../testing/provenance.ts';
import { bankTrust } from '../../testing/service.ts';
import { ARTIFACTS, hasChromium, launch } from './chromium.ts';

const BIN = fileURLToPath(new URL('../../bin/props.js', import.meta.url));
const ADMIN = 'owner-page-admin-token-0001';

describe.skipIf(!hasChromium)('data-owner page (Chromium)', () => {
  let child: ChildProcess;
  let browser: Browser;
  let url = '';
  let lenderId = '';
  const dir = mkdtempSync(join(tmpdir(), 'props-owner-'));
  const proofPath = join(dir, 'proof.json');

  beforeAll(async () => {
    const bank = await bankTrust();
    writeFileSync(join(dir, 'prov.json'), JSON.stringify(bank.policy));
    child = spawn(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--quiet', '--provenance-policy', join(dir, 'prov.json')],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, PROPS_ADMIN_TOKEN: ADMIN },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    url = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve((JSON.parse(buf.split('\n')[0]!) as { url: string }).url);
      });
      child.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    const t = Math.floor(Date.now() / 1000);
    const statement = generateBorrowers('owner-page', 1)[0]!.statement;
    const jws = await makeSignedSource(bank.key, {
      iss: 'bank.props.test',
      sub: statement.accountId,
      iat: t - 60,
      exp: t + 3600,
      statement,
    });
    writeFileSync(proofPath, JSON.stringify({ version: 1, kind: 'signed-source', jws }));
    const res = await fetch(`${url}/v1/admin/lenders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ name: 'page' }),
    });
    lenderId = ((await res.json()) as { lenderId: string }).lenderId;
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    child?.kill('SIGKILL');
  });

  it('clickjacking: the page and its script forbid framing and sniffing and are revalidated, not cached', async () => {
    for (const path of ['/owner.html', '/owner.js']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
    }
  });

  it('refuses the simulated enclave before anything is encrypted', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/owner.html`);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#enclave-verdict')).toMatch(/REFUSED.*ERR_ORACLE_EVIDENCE_REJECTED/);
    await page.setInputFiles('#proof', proofPath);
    await page.waitForFunction(() => (document.getElementById('shared')?.textContent ?? '').length > 0);
    expect(await page.isDisabled('#submit')).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'owner-refused.png'), fullPage: true });
  });

  it('checks, shows what is shared, submits, shows the receipt and grants a consent', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/owner.html`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.check('#allow-sim');
    await page.waitForSelector('#enclave-verdict.warn');
    expect(await page.textContent('#enclave-verdict')).toMatch(/SIMULATED.*NOT PINNED: any code and model pass/);
    await page.setInputFiles('#proof', proofPath);
    await page.waitForFunction(() => (document.getElementById('shared')?.textContent ?? '').length > 0);
    expect(await page.textContent('#shared')).toMatch(
      /signed-source: statement of account .* signed by bank\.props\.test/,
    );
    await page.click('#submit');
    await page.waitForSelector('#receipt.ok, #receipt.bad');
    expect(await page.textContent('#receipt')).toMatch(
      /Receipt signed by the enclave: input commitment 0x[0-9a-f]{64}/,
    );
    await page.fill('#lender', lenderId);
    await page.click('#consent');
    await page.waitForSelector('#consent-result.ok, #consent-result.bad');
    expect(await page.textContent('#consent-result')).toMatch(new RegExp(`granted to ${lenderId}`));
    await page.screenshot({ path: join(ARTIFACTS, 'owner-consented.png'), fullPage: true });
  });

  it('swapped code: an enclave running other code than the one the owner pinned is refused before anything is encrypted', async () => {
    const manifest = (await (await fetch(`${url}/v1/attestation/manifest`)).json()) as {
      codeHash: string;
      modelHash: string;
    };
    const other = `0x${'00'.repeat(32)}`;
    const open = async (query: string) => {
      const page = await browser.newPage();
      await page.goto(`${url}/owner.html?${query}`);
      await page.waitForSelector('body[data-ready="true"]');
      await page.check('#allow-sim');
      await page.waitForSelector('#enclave-verdict.warn, #enclave-verdict.bad');
      await page.setInputFiles('#proof', proofPath);
      await page.waitForFunction(() => (document.getElementById('shared')?.textContent ?? '').length > 0);
      return page;
    };
    // The link pins another code hash: refused, the failed check listed, nothing can be submitted.
    const swapped = await open(`code=${other}&model=${manifest.modelHash}`);
    expect(await swapped.textContent('#enclave-verdict')).toMatch(/REFUSED.*ERR_ORACLE_MANIFEST_REJECTED/);
    expect(await swapped.textContent('#checks')).toContain('manifest.code-hash ERR_MANIFEST_CODE_HASH_NOT_ALLOWED');
    expect(await swapped.isDisabled('#submit')).toBe(true);
    await swapped.screenshot({ path: join(ARTIFACTS, 'owner-pinned-other-code.png'), fullPage: true });
    // Pinned to what the enclave runs: accepted, and the verdict says the pins held.
    const pinned = await open(`code=${manifest.codeHash}&model=${manifest.modelHash}`);
    expect(await pinned.textContent('#enclave-verdict')).toMatch(/SIMULATED.*the code and model you pinned/);
    expect(await pinned.isDisabled('#submit')).toBe(false);
    // A pin that is not a hash is refused, not read as "any".
    await pinned.fill('#model-hash', '0x1234');
    await pinned.dispatchEvent('#model-hash', 'change');
    await pinned.waitForSelector('#enclave-verdict.bad');
    expect(await pinned.textContent('#enclave-verdict')).toMatch(/REFUSED.*ERR_POLICY_MALFORMED/);
    expect(await pinned.isDisabled('#submit')).toBe(true);
  });

  it('imports a raw TLSNotary presentation (hex) as the proof to share', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/owner.html`);
    await page.waitForSelector('body[data-ready="true"]');
    const hex = join(dir, 'presentation.hex');
    writeFileSync(hex, 'ab'.repeat(4000));
    await page.setInputFiles('#proof', hex);
    await page.waitForFunction(() => (document.getElementById('shared')?.textContent ?? '').length > 0);
    expect(await page.textContent('#shared')).toMatch(/TLSNotary presentation \(4000 bytes\)/);
  });
});
