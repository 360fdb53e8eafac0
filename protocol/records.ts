// Bank records as the data owner's sources serve them. Amounts are integer minor units (cents), signed.
import { z } from 'zod';

export const TRANSACTION_CATEGORIES = [
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
  'transfer_out',
  'other',
] as const;

export const transaction = z.strictObject({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  amount: z.number().int().min(-100_000_000).max(100_000_000),
  category: z.enum(TRANSACTION_CATEGORIES),
  description: z.string().max(140),
  balanceAfter: z.number().int().min(-1_000_000_000).max(1_000_000_000),
});
export type Transaction = z.infer<typeof transaction>;

/** One account's statement for a period: what a bank portal returns and what provenance proofs cover. */
export const statement = z.strictObject({
  version: z.literal(1),
  accountId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  currency: z.string().regex(/^[A-Z]{3}$/),
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  openingBalance: z.number().int(),
  transactions: z.array(transaction).max(20_000),
});
export type Statement = z.infer<typeof statement>;
