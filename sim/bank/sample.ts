// A small hand-built statement for tests and CLI demos of the portal (the seeded generator lives in generator.ts).
import type { Statement } from '../../protocol/index.ts';

export function sampleStatement(accountId: string): Statement {
  return {
    version: 1,
    accountId,
    currency: 'EUR',
    from: '2026-08-01',
    to: '2026-10-31',
    openingBalance: 125_000,
    transactions: [
      {
        date: '2026-08-01',
        amount: 320_000,
        category: 'salary',
        description: 'ACME PAYROLL AUG',
        balanceAfter: 445_000,
      },
      { date: '2026-08-02', amount: -95_000, category: 'rent', description: 'RENT FLAT 4B', balanceAfter: 350_000 },
      { date: '2026-08-14', amount: -4_512, category: 'card_spend', description: 'GROCER 0142', balanceAfter: 345_488 },
      {
        date: '2026-09-01',
        amount: 320_000,
        category: 'salary',
        description: 'ACME PAYROLL SEP',
        balanceAfter: 665_488,
      },
      {
        date: '2026-09-03',
        amount: -25_000,
        category: 'loan_repayment',
        description: 'CAR LOAN 17/48',
        balanceAfter: 640_488,
      },
      {
        date: '2026-10-29',
        amount: -1_500,
        category: 'overdraft_fee',
        description: 'OVERDRAFT FEE',
        balanceAfter: 638_988,
      },
    ],
  };
}
