// The fixed sample input of `props attest`: a small statement whose demonstration result shows the signing path
// end to end. It is sample data, not anyone's records.
import {
  inputCommitment,
  type Hex,
  type ProvenanceProof,
  type ResultOutput,
  type Statement,
} from '../protocol/index.ts';

export const SAMPLE_STATEMENT: Statement = {
  version: 1,
  accountId: 'demo-0001',
  currency: 'EUR',
  from: '2026-01-01',
  to: '2026-03-31',
  openingBalance: 120_000,
  transactions: [
    { date: '2026-01-01', amount: 310_000, category: 'salary', description: 'ACME PAYROLL', balanceAfter: 430_000 },
    { date: '2026-01-03', amount: -95_000, category: 'rent', description: 'RENT JAN', balanceAfter: 335_000 },
    { date: '2026-02-01', amount: 310_000, category: 'salary', description: 'ACME PAYROLL', balanceAfter: 645_000 },
    { date: '2026-02-03', amount: -95_000, category: 'rent', description: 'RENT FEB', balanceAfter: 550_000 },
    { date: '2026-03-01', amount: 310_000, category: 'salary', description: 'ACME PAYROLL', balanceAfter: 860_000 },
    { date: '2026-03-03', amount: -95_000, category: 'rent', description: 'RENT MAR', balanceAfter: 765_000 },
  ],
};

/**
 * The input commitment of sample inputs that come without a provenance proof: the protocol's one definition
 * (protocol/oracle.ts `inputCommitment`), with the inputs themselves standing as the one proof.
 */
export const commitInputs = (inputs: unknown): Hex => inputCommitment([inputs as ProvenanceProof]);

/** Used until a model is wired into the demonstration path: a fixed, clearly labelled output. */
export const DEMO_OUTPUT: ResultOutput = { score: 700, decision: 'approve', threshold: 600, reasonCodes: [] };
