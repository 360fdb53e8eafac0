import { afterEach, describe, expect, it, vi } from 'vitest';
import { statement } from '../../protocol/index.ts';
import { checkStatement } from '../../enclave/model/index.ts';
import { defaultLogit, generateBorrower, generateBorrowers } from './generator.ts';
import { createRng } from './prng.ts';

describe('seeded bank generator', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is a pure function of (seed, index, opts)', () => {
    expect(generateBorrower('s', 7)).toEqual(generateBorrower('s', 7));
    expect(generateBorrower('s', 7).statement).not.toEqual(generateBorrower('s', 8).statement);
    expect(generateBorrower('s', 7).statement).not.toEqual(generateBorrower('t', 7).statement);
  });

  it('never calls Math.random', () => {
    const spy = vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random used');
    });
    generateBorrowers(1, 20);
    expect(spy).not.toHaveBeenCalled();
  });

  it('produces statements that parse and whose running balances add up', () => {
    for (const b of generateBorrowers('schema', 40, { months: 4 })) {
      expect(statement.parse(b.statement)).toEqual(b.statement);
      expect(() => checkStatement(b.statement)).not.toThrow();
      expect(b.statement.from).toBe('2026-01-01');
      expect(b.statement.to).toBe('2026-04-30');
    }
  });

  it('covers the realistic categories across a population', () => {
    const seen = new Set(
      generateBorrowers('cats', 200).flatMap((b) => b.statement.transactions.map((t) => t.category)),
    );
    for (const c of [
      'salary',
      'benefits',
      'transfer_in',
      'rent',
      'utilities',
      'card_spend',
      'cash_withdrawal',
      'loan_repayment',
      'overdraft_fee',
      'returned_payment_fee',
    ]) {
      expect(seen.has(c as never)).toBe(true);
    }
  });

  it('draws labels from the documented latent process at a plausible default rate', () => {
    const bs = generateBorrowers('rate', 1500);
    const rate = bs.filter((b) => b.defaulted).length / bs.length;
    expect(rate).toBeGreaterThan(0.05);
    expect(rate).toBeLessThan(0.3);
    for (const b of bs.slice(0, 20)) expect(b.latent.riskLogit).toBe(defaultLogit(b.latent));
    // Riskier latent borrowers default more often.
    const sorted = [...bs].sort((a, b) => a.latent.riskLogit - b.latent.riskLogit);
    const low = sorted.slice(0, 500).filter((b) => b.defaulted).length;
    const high = sorted.slice(-500).filter((b) => b.defaulted).length;
    expect(high).toBeGreaterThan(3 * low);
  });

  it('refuses nonsense options', () => {
    expect(() => generateBorrower(1, -1)).toThrow(RangeError);
    expect(() => generateBorrower(1, 0, { months: 0 })).toThrow(RangeError);
    expect(() => generateBorrower(1, 0, { start: '2026-13-45' })).toThrow(RangeError);
  });

  it('seeds independent PRNG streams', () => {
    const a = createRng('a');
    const b = createRng('a');
    const c = createRng('b');
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});
