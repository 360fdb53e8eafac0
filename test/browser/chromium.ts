// Debian's Chromium driven by playwright-core: never a downloaded browser. Tests skip with a notice where it is absent.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';

export const CHROMIUM = process.env.PROPS_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[props] browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'props-out', 'test-artifacts');

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
