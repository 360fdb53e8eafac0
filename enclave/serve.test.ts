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
