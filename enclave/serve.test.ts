// `props serve` usage: bad flags and values exit 2 before anything boots.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../cli/main.ts';

describe('props serve usage', () => {
  it('exits 2 on an unknown flag, a bad port or rate, an unknown result signing mode; 0 on --help', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['serve', '--bogus'])).toBe(2);
      expect(await main(['serve', '--port', '70000'])).toBe(2);
      expect(await main(['serve', '--rate', '0'])).toBe(2);
      expect(await main(['serve', '--result-signing', 'sometimes'])).toBe(2);
      expect(await main(['serve', '--help'])).toBe(0);
    } finally {
      err.mockRestore();
      out.mockRestore();
    }
  });

  it('connection limits: a zero, non-decimal or inconsistent value exits 2 with usage, before anything boots', async () => {
    const lines: string[] = [];
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (lines.push(String(s)), true));
    try {
      for (const argv of [
        ['--max-connections', '0'],
        ['--max-connections', '1e3'],
        ['--headers-timeout-ms', ''],
        ['--request-timeout-ms', ' 7'],
        ['--keep-alive-ms', '-5'],
        ['--headers-timeout-ms', '20000', '--request-timeout-ms', '10000'],
      ]) {
        lines.length = 0;
        expect([argv, await main(['serve', ...argv])]).toEqual([argv, 2]);
        expect(lines.join('')).toContain('usage: props serve');
      }
      expect(lines.join('')).toContain('--headers-timeout-ms must not exceed --request-timeout-ms');
    } finally {
      err.mockRestore();
    }
  });

  it('an unknown --provider exits 2 before the seal file is written', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const dir = mkdtempSync(join(tmpdir(), 'props-serve-'));
    try {
      const db = join(dir, 'x.db');
      expect(await main(['serve', '--db', db, '--provider', 'tpu'])).toBe(2);
      expect(existsSync(`${db}.seal`)).toBe(false);
      expect(existsSync(db)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      err.mockRestore();
    }
  });

  it('seal withheld: an existing database without its seal file refuses to start (ERR_STATE_SEAL_MISSING), nothing reseeded', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const dir = mkdtempSync(join(tmpdir(), 'props-serve-'));
    try {
      const db = join(dir, 'props.db');
      writeFileSync(db, 'SQLite format 3\u0000 (a database the host kept)');
      expect(await main(['serve', '--db', db, '--port', '0', '--quiet'])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toContain('ERR_STATE_SEAL_MISSING');
      expect(existsSync(`${db}.seal`)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      err.mockRestore();
    }
  });
});

describe('props serve --database-url', () => {
  const run = async (argv: string[], env: Record<string, string> = {}) => {
    const lines: string[] = [];
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (lines.push(String(s)), true));
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      return { code: await main(argv), stderr: lines.join('') };
    } finally {
      process.env = saved;
      err.mockRestore();
    }
  };
  const seal = () => join(mkdtempSync(join(tmpdir(), 'props-serve-')), 'i.seal');
  /** An instance's seal and the fleet's, in a new folder. */
  const seals = () => {
    const dir = mkdtempSync(join(tmpdir(), 'props-serve-'));
    return ['--seal', join(dir, 'i.seal'), '--fleet-seal', join(dir, 'fleet.seal')];
  };

  it('a URL that is not postgres://: ERR_STORE_URL_INVALID, exit 2, no seal written', async () => {
    for (const url of ['not a url', 'mysql://u@127.0.0.1/x', 'sqlite:///tmp/x.db']) {
      const s = seals();
      const r = await run(['serve', '--database-url', url, ...s]);
      expect([url, r.code, r.stderr]).toEqual([url, 2, expect.stringContaining('ERR_STORE_URL_INVALID')]);
      expect(existsSync(s[1] as string)).toBe(false);
      expect(existsSync(s[3] as string)).toBe(false);
    }
  });

  it('a server that refuses (PROPS_DATABASE_URL too): ERR_STORE_UNAVAILABLE, exit 2, the password in no message', async () => {
    const url = 'postgres://props:S3CRET-PASSWORD@127.0.0.1:1/props';
    for (const r of [
      await run(['serve', '--database-url', url, ...seals()]),
      await run(['serve', ...seals()], { PROPS_DATABASE_URL: url }),
    ]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('ERR_STORE_UNAVAILABLE');
      expect(r.stderr).not.toContain('S3CRET');
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('--database-url with --db, without --seal or without --fleet-seal; --fleet-seal without a database URL: usage, exit 2', async () => {
    const url = 'postgres://u@127.0.0.1/x';
    for (const argv of [
      ['--database-url', url, '--db', 'x.db', ...seals()],
      ['--database-url', url],
      ['--database-url', url, '--seal', seal()],
      ['--fleet-seal', seal()],
    ]) {
      const r = await run(['serve', ...argv]);
      expect([argv, r.code, r.stderr]).toEqual([argv, 2, expect.stringContaining('usage: props serve')]);
    }
  });
});
