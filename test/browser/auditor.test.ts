// The auditor page in a real browser: a genuine sim bundle verifies (with simulated allowed) and a tampered one
// fails with its code. Screenshots are kept under props-out/test-artifacts/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildPage } from '../../cli/pages.ts';
import {
  buildAuditBundle,
  commitInputs,
  DEMO_OUTPUT,
  logBundleResults,
  SAMPLE_STATEMENT,
} from '../../enclave/index.ts';
import { ARTIFACTS, hasChromium, launch } from './chromium.ts';
import { NOW, hex32, simEnclave } from '../../testing/enclave.ts';

describe.skipIf(!hasChromium)('auditor page (Chromium)', () => {
  let server: Server;
  let base = '';
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'props-auditor-'));
  const good = join(dir, 'bundle.json');
  const bad = join(dir, 'tampered.json');

  beforeAll(async () => {
    const page = await buildPage('auditor');
    server = createServer((req, res) => {
      if (req.url === '/auditor.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(page.js);
      else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page.html);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const enclave = await simEnclave();
    const request = { requestId: hex32('11'), nonce: hex32('22'), consentRef: hex32('33') };
    const attestation = await enclave.signResult(request, DEMO_OUTPUT, commitInputs(SAMPLE_STATEMENT));
    const bundle = await logBundleResults(
      enclave,
      buildAuditBundle(
        enclave,
        [{ request: { requestId: request.requestId, nonce: request.nonce }, attestation }],
        NOW,
      ),
      NOW,
    );
    writeFileSync(good, JSON.stringify(bundle));
    const t = structuredClone(bundle);
    t.manifest.modelHash = hex32('ab');
    writeFileSync(bad, JSON.stringify(t));
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('verifies a genuine simulated bundle and labels it simulated', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/auditor.html`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.fill('#now', NOW.toISOString());
    await page.check('#allow-sim');
    await page.setInputFiles('#file', good);
    await page.waitForSelector('.verdict.ok');
    expect(await page.textContent('#verdict')).toMatch(/^VERIFIED/);
    expect(await page.textContent('#simulated')).toMatch(/SIMULATED/);
    expect(await page.textContent('#ear-status')).toMatch(/warning/);
    expect(await page.locator('tr.fail').count()).toBe(0);
    expect(await page.locator('tr.pass').count()).toBeGreaterThan(10);
    const download = page.waitForEvent('download');
    await page.click('#download');
    expect((await download).suggestedFilename()).toBe('props-audit-report.json');
    await page.screenshot({ path: join(ARTIFACTS, 'auditor-verified.png'), fullPage: true });
  });

  it('fails a tampered bundle and names the reason (ERR_MANIFEST_MISMATCH)', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/auditor.html`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.fill('#now', NOW.toISOString());
    await page.check('#allow-sim');
    await page.setInputFiles('#file', bad);
    await page.waitForSelector('.verdict.bad');
    expect(await page.textContent('#verdict')).toMatch(/^FAILED/);
    expect(await page.textContent('tr[data-check="manifest.binding"]')).toMatch(/ERR_MANIFEST_MISMATCH/);
    await page.screenshot({ path: join(ARTIFACTS, 'auditor-failed.png'), fullPage: true });
  });

  it('refuses simulated evidence unless allowed (ERR_EVIDENCE_SIMULATED_NOT_ALLOWED)', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/auditor.html`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.fill('#now', NOW.toISOString());
    await page.setInputFiles('#file', good);
    await page.waitForSelector('.verdict.bad');
    expect(await page.textContent('tr[data-check="evidence.platform"]')).toMatch(/ERR_EVIDENCE_SIMULATED_NOT_ALLOWED/);
  });
});
