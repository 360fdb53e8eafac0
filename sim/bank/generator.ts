// Seeded synthetic borrowers: a bank statement plus the hidden traits and the default outcome that produced it.
// A pure function (no I/O, no clock, no Math.random): the bank portal serves these statements and the model
// trains on them, and the same (seed, index, opts) always gives the same borrower.
import type { Statement, Transaction } from '../../protocol/index.ts';
import { createRng, type Rng } from './prng.ts';

export type GeneratorOptions = {
  /** First day of the statement, YYYY-MM-DD (a month start keeps months aligned). */
  start?: string;
  /** Whole months of history. */
  months?: number;
  currency?: string;
};

export type IncomeKind = 'salaried' | 'gig' | 'benefits';

/** The borrower's hidden traits: what the statement is drawn from and what the default process reads. */
export type Latent = {
  incomeKind: IncomeKind;
  /** Expected monthly income, cents. */
  incomeMonthly: number;
  /** Month-to-month income variation (log-normal sigma). */
  incomeVolatility: number;
  rentShare: number;
  /** Discretionary spending as a share of income. */
  spendShare: number;
  /** Loan repayments as a share of income (0 = no loans). */
  debtShare: number;
  /** Opening cash buffer, in months of income. */
  bufferMonths: number;
  /** Arranged overdraft limit, cents (debits beyond it are declined or returned). */
  overdraftLimit: number;
  /** Chance per month of a large unplanned expense. */
  shockRate: number;
  /** Risk the statement cannot show (job security, health, other debts): standard normal. */
  hiddenRisk: number;
  /** Log-odds of default within 12 months after the statement. */
  riskLogit: number;
  probabilityOfDefault: number;
};

export type Borrower = { statement: Statement; latent: Latent; defaulted: boolean };

export const GENERATOR_VERSION = 1;
const DAY_MS = 86_400_000;
const FEE = 3_500;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * The latent default process (documented in MODEL.md). Risk rises with budget strain (committed and discretionary
 * outflows beyond income), debt load, thin cash buffers, volatile income and exposure to shocks, falls with
 * income level, and carries an unobservable component, so no statement-based model can be near-perfect.
 */
export function defaultLogit(l: Omit<Latent, 'riskLogit' | 'probabilityOfDefault'>): number {
  const strain = l.rentShare + l.spendShare + l.debtShare - 0.95;
  return (
    -2.9 +
    6.0 * strain +
    4.0 * l.debtShare -
    0.9 * Math.log1p(l.bufferMonths) +
    2.5 * l.incomeVolatility -
    0.5 * Math.log(l.incomeMonthly / 350_000) +
    2.0 * l.shockRate +
    0.6 * l.hiddenRisk
  );
}

function drawLatent(rng: Rng): Latent {
  const u = rng.next();
  const incomeKind: IncomeKind = u < 0.68 ? 'salaried' : u < 0.9 ? 'gig' : 'benefits';
  const base = incomeKind === 'benefits' ? 140_000 : incomeKind === 'gig' ? 300_000 : 380_000;
  const incomeMonthly = Math.round(clamp(base * Math.exp(0.45 * rng.normal()), 60_000, 3_000_000));
  const incomeVolatility =
    incomeKind === 'gig' ? rng.uniform(0.15, 0.55) : incomeKind === 'benefits' ? 0.01 : rng.uniform(0.0, 0.06);
  const rentShare = rng.uniform(0.18, 0.42);
  const spendShare = clamp(0.45 + 0.13 * rng.normal(), 0.15, 0.95);
  const debtShare = rng.bernoulli(0.35) ? 0 : rng.uniform(0.03, 0.35);
  const bufferMonths = clamp(Math.exp(-0.8 + 1.1 * rng.normal()), 0, 12);
  const overdraftLimit = rng.pick([0, 0, 25_000, 50_000, 100_000]);
  const shockRate = rng.uniform(0.02, 0.25);
  const hiddenRisk = rng.normal();
  const partial = {
    incomeKind,
    incomeMonthly,
    incomeVolatility,
    rentShare,
    spendShare,
    debtShare,
    bufferMonths,
    overdraftLimit,
    shockRate,
    hiddenRisk,
  };
  const riskLogit = defaultLogit(partial);
  return { ...partial, riskLogit, probabilityOfDefault: sigmoid(riskLogit) };
}

type Planned = {
  day: number;
  seq: number;
  category: Transaction['category'];
  amount: number;
  description: string;
  kind: 'credit' | 'bill' | 'spend';
};

const MERCHANTS = [
  'GROCERY MART',
  'CORNER CAFE',
  'FUEL STOP',
  'ONLINE RETAIL',
  'PHARMACY',
  'DINER',
  'HARDWARE CO',
  'STREAMING SVC',
  'TRANSIT CARD',
  'BOOKSHOP',
];
const SHOCKS = ['AUTO REPAIR', 'DENTAL CLINIC', 'VET HOSPITAL', 'APPLIANCE STORE', 'URGENT CARE'];
const LENDERS = ['AUTO LOAN', 'STUDENT LOAN', 'PERSONAL LOAN', 'CARD PAYMENT'];

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function parseStart(start: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(start)) throw new RangeError('generator: start must be YYYY-MM-DD');
  const ms = Date.parse(`${start}T00:00:00Z`);
  if (!Number.isFinite(ms)) throw new RangeError('generator: invalid start date');
  return ms;
}

function monthStart(startMs: number, m: number): number {
  const d = new Date(startMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + m, d.getUTCDate());
}

/** Splits `total` cents into `n` parts of at least $1 with random weights (sums to about `total`). */
function split(rng: Rng, total: number, n: number): number[] {
  const w = Array.from({ length: n }, () => -Math.log(1 - rng.next() * 0.999));
  const sum = w.reduce((a, b) => a + b, 0);
  const parts = w.map((x) => Math.max(100, Math.round((total * x) / sum)));
  return parts;
}

function planMonth(rng: Rng, l: Latent, monthIndex: number, days: number, loanName: string): Planned[] {
  const out: Planned[] = [];
  let seq = 0;
  const add = (
    day: number,
    category: Planned['category'],
    amount: number,
    description: string,
    kind: Planned['kind'],
  ): void => {
    out.push({ day: clamp(day, 0, days - 1), seq: seq++, category, amount, description, kind });
  };
  const monthIncome = l.incomeMonthly * Math.exp(l.incomeVolatility * rng.normal());
  if (l.incomeKind === 'salaried') {
    add(24, 'salary', Math.round(monthIncome), 'PAYROLL ACME CORP', 'credit');
  } else if (l.incomeKind === 'benefits') {
    add(2, 'benefits', Math.round(monthIncome), 'STATE BENEFITS', 'credit');
  } else {
    const n = rng.int(3, 9);
    for (const part of split(rng, monthIncome, n))
      add(rng.int(0, days - 1), 'transfer_in', part, 'GIG PLATFORM PAYOUT', 'credit');
  }
  add(0, 'rent', -Math.round(l.incomeMonthly * l.rentShare), 'RENT PAYMENT', 'bill');
  add(rng.int(8, 12), 'utilities', -rng.int(6_000, 25_000), 'CITY UTILITIES', 'bill');
  if (l.debtShare > 0) add(14, 'loan_repayment', -Math.round(l.incomeMonthly * l.debtShare), loanName, 'bill');
  const spend = l.incomeMonthly * l.spendShare * Math.exp(0.15 * rng.normal());
  const cashShare = rng.uniform(0, 0.25);
  const nCard = rng.int(10, 32);
  for (const part of split(rng, spend * (1 - cashShare), nCard))
    add(rng.int(0, days - 1), 'card_spend', -part, rng.pick(MERCHANTS), 'spend');
  if (cashShare > 0.05) {
    for (const part of split(rng, spend * cashShare, rng.int(1, 3)))
      add(rng.int(0, days - 1), 'cash_withdrawal', -part, 'ATM WITHDRAWAL', 'spend');
  }
  if (rng.bernoulli(l.shockRate)) {
    add(
      rng.int(0, days - 1),
      'card_spend',
      -Math.round(l.incomeMonthly * rng.uniform(0.3, 1.2)),
      rng.pick(SHOCKS),
      'spend',
    );
  }
  if (rng.bernoulli(0.15))
    add(rng.int(0, days - 1), 'transfer_out', -rng.int(2_000, 40_000), 'TRANSFER TO FRIEND', 'spend');
  if (rng.bernoulli(0.1))
    add(
      rng.int(0, days - 1),
      'other',
      -rng.int(500, 5_000),
      monthIndex % 2 ? 'BANK SERVICE CHARGE' : 'SUBSCRIPTION',
      'spend',
    );
  // Credits before debits on a day; otherwise in planned order (stable, so the result is reproducible).
  out.sort((a, b) => a.day - b.day || (a.kind === 'credit' ? 0 : 1) - (b.kind === 'credit' ? 0 : 1) || a.seq - b.seq);
  return out;
}

/** One synthetic borrower: statement, hidden traits and the default draw. Pure and seeded. */
export function generateBorrower(seed: string | number, index: number, opts: GeneratorOptions = {}): Borrower {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new RangeError('generator: index must be a non-negative integer');
  const months = opts.months ?? 6;
  if (!Number.isInteger(months) || months < 1 || months > 36) throw new RangeError('generator: months must be 1..36');
  const startMs = parseStart(opts.start ?? '2026-01-01');
  const rng = createRng(`props/sim/bank/v${GENERATOR_VERSION}/${String(seed)}/${index}`);
  const latent = drawLatent(rng);
  // The outcome is drawn first from its own stream, so the statement's randomness cannot leak into the label.
  const defaulted =
    createRng(`props/sim/bank/v${GENERATOR_VERSION}/${String(seed)}/${index}/outcome`).next() <
    latent.probabilityOfDefault;

  const openingBalance = Math.round(latent.incomeMonthly * latent.bufferMonths * rng.uniform(0.6, 1.4));
  const loanName = rng.pick(LENDERS);
  let balance = openingBalance;
  const transactions: Transaction[] = [];
  const push = (dayMs: number, category: Transaction['category'], amount: number, description: string): void => {
    balance += amount;
    transactions.push({ date: isoDate(dayMs), amount, category, description, balanceAfter: balance });
  };
  for (let m = 0; m < months; m++) {
    const m0 = monthStart(startMs, m);
    const days = Math.round((monthStart(startMs, m + 1) - m0) / DAY_MS);
    let lastFeeDay = -1;
    for (const p of planMonth(rng, latent, m, days, loanName)) {
      const dayMs = m0 + p.day * DAY_MS;
      if (p.kind === 'credit') {
        push(dayMs, p.category, p.amount, p.description);
        continue;
      }
      const floor = -latent.overdraftLimit;
      if (balance + p.amount < floor) {
        // Beyond the arranged limit a bill bounces (with a fee) and a purchase is simply declined.
        if (p.kind === 'bill') push(dayMs, 'returned_payment_fee', -FEE, `RETURNED PAYMENT FEE ${p.description}`);
        continue;
      }
      push(dayMs, p.category, p.amount, p.description);
      if (balance < 0 && lastFeeDay !== p.day) {
        push(dayMs, 'overdraft_fee', -FEE, 'OVERDRAFT FEE');
        lastFeeDay = p.day;
      }
      // Family sometimes covers an overdraft.
      if (balance < 0 && rng.bernoulli(0.08))
        push(dayMs, 'transfer_in', Math.min(-balance + rng.int(0, 20_000), 500_000), 'TRANSFER FROM FAMILY');
    }
  }
  const endMs = monthStart(startMs, months) - DAY_MS;
  const accountId = `acct-${String(seed)
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .slice(0, 32)}-${index}`;
  const statement: Statement = {
    version: 1,
    accountId,
    currency: opts.currency ?? 'USD',
    from: isoDate(startMs),
    to: isoDate(endMs),
    openingBalance,
    transactions,
  };
  return { statement, latent, defaulted };
}

/** `count` borrowers from index `offset` on. */
export function generateBorrowers(
  seed: string | number,
  count: number,
  opts: GeneratorOptions & { offset?: number } = {},
): Borrower[] {
  const { offset = 0, ...rest } = opts;
  return Array.from({ length: count }, (_, i) => generateBorrower(seed, offset + i, rest));
}
