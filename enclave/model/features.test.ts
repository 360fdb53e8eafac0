import { describe, expect, it } from 'vitest';
import type { Statement } from '../../protocol/index.ts';
import { generateBorrower } from '../../sim/bank/generator.ts';
import { computeFeatures, FEATURE_COUNT, FEATURE_NAMES, FEATURES } from './features.ts';

const base = (): Statement => structuredClone(generateBorrower('features', 3).statement);
const idx = (name: string): number => FEATURE_NAMES.indexOf(name);

describe('statement features', () => {
  it('are deterministic, finite and in FEATURES order', () => {
    const s = base();
    const f = computeFeatures(s);
    expect(f).toHaveLength(FEATURE_COUNT);
    expect(f.every(Number.isFinite)).toBe(true);
    expect(computeFeatures(structuredClone(s))).toEqual(f);
    expect(new Set(FEATURES.map((x) => x.reasonCode)).size).toBe(FEATURE_COUNT);
  });

  it('reads history length, income and overdrafts from the records', () => {
    const s: Statement = {
      version: 1,
      accountId: 'a',
      currency: 'USD',
      from: '2026-01-01',
      to: '2026-03-31',
      openingBalance: 10_000,
      transactions: [
        { date: '2026-01-05', amount: 300_000, category: 'salary', description: 'PAY', balanceAfter: 310_000 },
        { date: '2026-01-06', amount: -320_000, category: 'rent', description: 'RENT', balanceAfter: -10_000 },
        { date: '2026-01-06', amount: -3_500, category: 'overdraft_fee', description: 'FEE', balanceAfter: -13_500 },
        { date: '2026-02-05', amount: 300_000, category: 'salary', description: 'PAY', balanceAfter: 286_500 },
        { date: '2026-03-05', amount: 300_000, category: 'salary', description: 'PAY', balanceAfter: 586_500 },
        { date: '2026-03-10', amount: -60_000, category: 'loan_repayment', description: 'LOAN', balanceAfter: 526_500 },
      ],
    };
    const f = computeFeatures(s);
    expect(f[idx('months_history')]).toBeCloseTo(90 / 30.4375, 6);
    expect(f[idx('overdraft_fees_pm')]).toBeCloseTo(1 / (90 / 30.4375), 6);
    expect(f[idx('days_overdrawn_frac')]).toBeCloseTo(30 / 90, 6); // Jan 6 .. Feb 4 end below zero
    expect(f[idx('debt_service_ratio')]).toBeCloseTo(60_000 / 900_000, 6);
    expect(f[idx('regular_income_share')]).toBe(1);
  });

  it('stay finite for a statement with no transactions at all', () => {
    const s: Statement = {
      version: 1,
      accountId: 'a',
      currency: 'USD',
      from: '2026-01-01',
      to: '2026-02-28',
      openingBalance: 0,
      transactions: [],
    };
    expect(computeFeatures(s).every(Number.isFinite)).toBe(true);
  });

  it('refuses a doctored running balance (balance inflated after the fact)', () => {
    const s = base();
    s.transactions[5]!.balanceAfter += 1_000_000;
    expect(() => computeFeatures(s)).toThrow(expect.objectContaining({ code: 'ERR_FEATURES_STATEMENT_INCONSISTENT' }));
  });

  it('refuses a removed transaction (an overdraft fee deleted to hide it)', () => {
    const s = base();
    s.transactions.splice(3, 1);
    expect(() => computeFeatures(s)).toThrow(expect.objectContaining({ code: 'ERR_FEATURES_STATEMENT_INCONSISTENT' }));
  });

  it('refuses transactions out of order or outside the period', () => {
    const s = base();
    const [a, b] = [s.transactions[0]!, s.transactions[s.transactions.length - 1]!];
    a.date = b.date;
    expect(() => computeFeatures(s)).toThrow(expect.objectContaining({ code: 'ERR_FEATURES_STATEMENT_INCONSISTENT' }));
    const t = base();
    t.to = '2026-03-01';
    expect(() => computeFeatures(t)).toThrow(expect.objectContaining({ code: 'ERR_FEATURES_STATEMENT_INCONSISTENT' }));
    const u = base();
    u.from = '2026-07-01';
    expect(() => computeFeatures(u)).toThrow(expect.objectContaining({ code: 'ERR_FEATURES_STATEMENT_INCONSISTENT' }));
  });

  it('refuses a history too short to score', () => {
    const s: Statement = {
      version: 1,
      accountId: 'a',
      currency: 'USD',
      from: '2026-01-01',
      to: '2026-01-20',
      openingBalance: 0,
      transactions: [],
    };
    expect(() => computeFeatures(s)).toThrow(expect.objectContaining({ code: 'ERR_FEATURES_HISTORY_TOO_SHORT' }));
  });
});

describe('dayIndex', () => {
  it('agrees with Date.parse on every day from 1999 to 2031 and refuses invalid dates', async () => {
    const { dayIndex } = await import('./features.ts');
    for (let t = Date.UTC(1999, 0, 1); t <= Date.UTC(2031, 11, 31); t += 86_400_000) {
      const iso = new Date(t).toISOString().slice(0, 10);
      expect(dayIndex(iso)).toBe(t / 86_400_000);
    }
    for (const bad of ['2026-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-1-01', 'abcd-ef-gh', '2026/01/01'])
      expect(dayIndex(bad)).toBeNaN();
    expect(dayIndex('2024-02-29')).toBe(Date.UTC(2024, 1, 29) / 86_400_000);
  });
});
