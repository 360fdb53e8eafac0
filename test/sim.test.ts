// `props sim` with a small N: every step holds, money moves only for verified results, the refund happens, and the
// audit bundle it writes verifies again from disk with the CLI.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runSimulation } from '../sim/run.ts';

describe('props sim', () => {
  it('runs the whole pipeline for 4 borrowers and 2 lenders with every check held', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'props-sim-'));
    const lines: string[] = [];
    const s = await runSimulation({
      borrowers: 4,
      lenders: 2,
      outDir,
      seed: 'test',
      threshold: 600,
      log: (l) => lines.push(l),
    });
    expect(s.checks.filter((c) => !c.ok)).toEqual([]);
    expect(s.ok).toBe(true);
    expect(s.scored).toBe(4);
    expect(s.approved + s.declined).toBe(4);
    expect(s.verified).toBe(4);
    expect(s.paid).toBe(4);
    expect(s.refunded).toBe(1);
    expect(s.paidBySignature + s.paidByInclusionProof).toBe(4);
    expect(s.paidByInclusionProof).toBeGreaterThan(0);
    expect(s.checks.find((c) => c.step.includes('transparency log'))?.ok).toBe(true);
    expect(s.gas.registerKey).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('registered by auditor quorum'))).toBe(true);
    const bin = join(import.meta.dirname, '..', 'bin', 'props.js');
    const r = spawnSync(
      process.execPath,
      [bin, 'verify', s.auditBundle, '--policy', join(outDir, 'policy.json'), '--json'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { ok: boolean }).ok).toBe(true);
  }, 120_000);
});

describe('props sim --attacks', () => {
  it('rejects every scenario at its layer with its expected code and leaves no trace', async () => {
    const { runAttacks } = await import('../sim/attacks.ts');
    const r = await runAttacks({ log: () => {} });
    expect(r.attacks.length).toBeGreaterThanOrEqual(25);
    expect(r.attacks.filter((a) => !a.ok)).toEqual([]);
    for (const a of r.attacks) {
      expect(a.rejected, a.name).toBe(true);
      expect(a.code, a.name).toBe(a.expected);
      expect(a.traceFree, a.name).toBe(true);
    }
  }, 180_000);
});
