// `props serve` usage: bad flags and values exit 2 before anything boots.
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
});
