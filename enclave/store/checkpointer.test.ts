// The WAL checkpoint worker's failures: counted, and logged by stage and code without data (no path, no message).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCheckpointer, type CheckpointerFailure } from './checkpointer.ts';

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('checkpointer', () => {
  it('Flaky store close: a failing checkpoint is counted and logged by stage and code, without data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'props-ckpt-'));
    const file = join(dir, 'secret-name.db');
    writeFileSync(file, 'not a database '.repeat(1000));
    const logged: CheckpointerFailure[] = [];
    const c = startCheckpointer(file, { intervalMs: 1, logger: (e) => logged.push(e) });
    await until(() => c.failures >= 3);
    await c.stop();
    expect(c.failures).toBeGreaterThanOrEqual(3);
    expect(logged[0]).toEqual({
      event: 'store.checkpoint_failed',
      stage: 'checkpoint',
      code: 'SQLITE_NOTADB',
      failures: 1,
    });
    // A failure repeated every tick is logged at the 1st, 2nd, 4th, … occurrence only.
    expect(logged.map((e) => e.failures)).toEqual(Array.from({ length: logged.length }, (_, i) => 2 ** i));
    expect(JSON.stringify(logged)).not.toContain('secret-name');
    rmSync(dir, { recursive: true });
  });

  it('Flaky store close: a worker that cannot open its connection is counted and logged, and stop still resolves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'props-ckpt-'));
    const logged: CheckpointerFailure[] = [];
    const c = startCheckpointer(join(dir, 'missing', 'secret-name.db'), { logger: (e) => logged.push(e) });
    await until(() => c.failures > 0);
    await c.stop();
    expect(c.failures).toBe(1);
    expect(logged).toEqual([
      { event: 'store.checkpoint_failed', stage: 'start', code: expect.any(String), failures: 1 },
    ]);
    expect(JSON.stringify(logged)).not.toContain('secret-name');
    rmSync(dir, { recursive: true });
  });
});
