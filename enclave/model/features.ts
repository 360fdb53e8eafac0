// Credit features computed only from a parsed, certified bank Statement: deterministic, bounded, documented in
// MODEL.md. The order of FEATURES is the model's input layout; the ONNX file records it and the runtime checks it.
import { PropsError, type Statement } from '../../protocol/index.ts';

export type FeatureSpec = {
  name: string;
  /** Which end of the feature is the risky one; training constrains the weight's sign to match. */
  adverse: 'high' | 'low';
  /** Stable reason code, named for the adverse end, reported when the feature raises the risk. */
  reasonCode: string;
  description: string;
};

export const FEATURES = [
  {
    name: 'months_history',
    adverse: 'low',
    reasonCode: 'SHORT_HISTORY',
    description: 'statement length in months (days / 30.4375)',
  },
  {
    name: 'log_income',
    adverse: 'low',
    reasonCode: 'LOW_INCOME',
    description: 'ln(1 + mean monthly inflow from salary, benefits and incoming transfers, in currency units)',
  },
  {
    name: 'income_cv',
    adverse: 'high',
    reasonCode: 'IRREGULAR_INCOME',
    description: 'coefficient of variation of monthly income (capped at 3)',
  },
  {
    name: 'regular_income_share',
    adverse: 'low',
    reasonCode: 'LOW_REGULAR_INCOME_SHARE',
    description: 'share of income from salary and benefits (0..1)',
  },
  {
    name: 'min_balance_ratio',
    adverse: 'low',
    reasonCode: 'LOW_MIN_BALANCE',
    description: 'lowest end-of-day balance / monthly income, clipped to [-2, 5]',
  },
  {
    name: 'avg_balance_ratio',
    adverse: 'low',
    reasonCode: 'LOW_AVG_BALANCE',
    description: 'day-weighted mean end-of-day balance / monthly income, clipped to [-2, 12]',
  },
  {
    name: 'days_overdrawn_frac',
    adverse: 'high',
    reasonCode: 'FREQUENT_OVERDRAFT',
    description: 'share of days ending below zero (0..1)',
  },
  {
    name: 'returned_payments_pm',
    adverse: 'high',
    reasonCode: 'RETURNED_PAYMENTS',
    description: 'returned-payment fees per month (capped at 10)',
  },
  {
    name: 'overdraft_fees_pm',
    adverse: 'high',
    reasonCode: 'OVERDRAFT_FEES',
    description: 'overdraft fees per month (capped at 31)',
  },
  {
    name: 'debt_service_ratio',
    adverse: 'high',
    reasonCode: 'HIGH_DEBT_SERVICE',
    description: 'loan repayments / income (capped at 2)',
  },
  {
    name: 'spend_ratio',
    adverse: 'high',
    reasonCode: 'HIGH_SPENDING',
    description: 'card spend, cash, outgoing transfers and other debits / income (capped at 3)',
  },
  { name: 'rent_ratio', adverse: 'high', reasonCode: 'HIGH_HOUSING_COST', description: 'rent / income (capped at 2)' },
  {
    name: 'net_flow_volatility',
    adverse: 'high',
    reasonCode: 'VOLATILE_CASH_FLOW',
    description: 'std of monthly net flow / monthly income (capped at 3)',
  },
  {
    name: 'balance_trend',
    adverse: 'low',
    reasonCode: 'FALLING_BALANCE',
    description: '(closing - opening balance) / monthly income / months, clipped to [-2, 2]',
  },
] as const satisfies readonly FeatureSpec[];

export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);
export const FEATURE_COUNT = FEATURES.length;
/** Shortest statement we score: below a month there is no income cycle to read. */
export const MIN_HISTORY_DAYS = 28;
/** Longest statement we score (about ten years): bounds the day-by-day walk. */
export const MAX_HISTORY_DAYS = 3_700;

const MONTH_DAYS = 30.4375;
/** Income floor (cents) for ratios, so a borrower with no income gets large but finite ratios. */
const INCOME_FLOOR = 50_000;

const clip = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
/**
 * Days since 1970-01-01 of a YYYY-MM-DD date (proleptic Gregorian, days-from-civil), without Date.parse: it runs
 * about three times per transaction. NaN for anything that is not a valid calendar date.
 */
export function dayIndex(iso: string): number {
  if (iso.length !== 10 || iso[4] !== '-' || iso[7] !== '-') return Number.NaN;
  const y0 = Number(iso.slice(0, 4));
  const m = Number(iso.slice(5, 7));
  const d = Number(iso.slice(8, 10));
  if (!Number.isInteger(y0) || !Number.isInteger(m) || !Number.isInteger(d) || m < 1 || m > 12 || d < 1)
    return Number.NaN;
  const leap = (y0 % 4 === 0 && y0 % 100 !== 0) || y0 % 400 === 0;
  const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] as number;
  if (d > monthDays) return Number.NaN;
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) * (b - mean), 0) / xs.length;
  return { mean, std: Math.sqrt(v) };
}

function inconsistent(detail: string): never {
  throw new PropsError('ERR_FEATURES_STATEMENT_INCONSISTENT', { detail });
}

/**
 * Checks what the schema cannot: a statement whose dates or running balances do not add up is refused rather
 * than scored, so a malformed (or doctored-before-signing) statement cannot steer the features.
 */
export function checkStatement(s: Statement): void {
  const from = dayIndex(s.from);
  const to = dayIndex(s.to);
  if (!Number.isFinite(from) || !Number.isFinite(to)) inconsistent('period dates');
  if (to < from) inconsistent('period ends before it starts');
  if (to - from + 1 > MAX_HISTORY_DAYS) inconsistent('period longer than the scoring limit');
  if (to - from + 1 < MIN_HISTORY_DAYS)
    throw new PropsError('ERR_FEATURES_HISTORY_TOO_SHORT', { detail: `${to - from + 1} days` });
  let balance = s.openingBalance;
  let prev = from;
  s.transactions.forEach((t, i) => {
    const d = dayIndex(t.date);
    if (!Number.isFinite(d) || d < prev || d > to) inconsistent(`transactions.${i}.date`);
    prev = d;
    balance += t.amount;
    if (t.balanceAfter !== balance) inconsistent(`transactions.${i}.balanceAfter`);
  });
}

/** The feature vector for one statement, in FEATURES order. Throws coded errors for inconsistent statements. */
export function computeFeatures(s: Statement): number[] {
  checkStatement(s);
  const from = dayIndex(s.from);
  const days = dayIndex(s.to) - from + 1;
  const months = days / MONTH_DAYS;
  const nBuckets = Math.max(1, Math.round(months));
  const bucket = (d: number): number => Math.min(nBuckets - 1, Math.floor((d - from) / MONTH_DAYS));

  const incomeByMonth = new Array<number>(nBuckets).fill(0);
  const netByMonth = new Array<number>(nBuckets).fill(0);
  let regularIncome = 0;
  let loans = 0;
  let spend = 0;
  let rent = 0;
  let returned = 0;
  let overdraftFees = 0;
  // End-of-day balances: walk the days, applying each day's transactions.
  const eod = new Array<number>(days);
  let balance = s.openingBalance;
  let ti = 0;
  for (let d = 0; d < days; d++) {
    while (ti < s.transactions.length) {
      const t = s.transactions[ti] as Statement['transactions'][number];
      const td = dayIndex(t.date) - from;
      if (td !== d) break;
      balance = t.balanceAfter;
      const b = bucket(td + from);
      netByMonth[b] = (netByMonth[b] ?? 0) + t.amount;
      switch (t.category) {
        case 'salary':
        case 'benefits':
          regularIncome += Math.max(0, t.amount);
          incomeByMonth[b] = (incomeByMonth[b] ?? 0) + Math.max(0, t.amount);
          break;
        case 'transfer_in':
          incomeByMonth[b] = (incomeByMonth[b] ?? 0) + Math.max(0, t.amount);
          break;
        case 'loan_repayment':
          loans += Math.max(0, -t.amount);
          break;
        case 'rent':
          rent += Math.max(0, -t.amount);
          break;
        case 'card_spend':
        case 'cash_withdrawal':
        case 'transfer_out':
        case 'other':
          spend += Math.max(0, -t.amount);
          break;
        case 'returned_payment_fee':
          returned++;
          break;
        case 'overdraft_fee':
          overdraftFees++;
          break;
        case 'utilities':
          break;
      }
      ti++;
    }
    eod[d] = balance;
  }

  const totalIncome = incomeByMonth.reduce((a, b) => a + b, 0);
  const income = Math.max(INCOME_FLOOR, totalIncome / months);
  const incomeStats = meanStd(incomeByMonth);
  const netStats = meanStd(netByMonth);
  let minBal = s.openingBalance;
  for (const b of eod as number[]) if (b < minBal) minBal = b;
  const avgBal = (eod as number[]).reduce((a, b) => a + b, 0) / days;
  const overdrawn = (eod as number[]).filter((b) => b < 0).length / days;
  const closing = eod[days - 1] ?? s.openingBalance;

  const totalBase = income * months;
  const f = [
    months,
    Math.log1p(totalIncome / months / 100),
    incomeStats.mean > 0 ? clip(incomeStats.std / incomeStats.mean, 0, 3) : 3,
    totalIncome > 0 ? regularIncome / totalIncome : 0,
    clip(minBal / income, -2, 5),
    clip(avgBal / income, -2, 12),
    overdrawn,
    clip(returned / months, 0, 10),
    clip(overdraftFees / months, 0, 31),
    clip(loans / totalBase, 0, 2),
    clip(spend / totalBase, 0, 3),
    clip(rent / totalBase, 0, 2),
    clip(netStats.std / income, 0, 3),
    clip((closing - s.openingBalance) / income / months, -2, 2),
  ];
  if (f.length !== FEATURE_COUNT || !f.every(Number.isFinite)) throw new Error('features: internal invariant broken');
  return f;
}
