// PLACEHOLDER scorer so `props serve` answers end to end before the ONNX model (issue 4) is wired: a fixed,
// deterministic rule over the statement (net inflow and fees). It is not a credit model; the lead replaces it.
import type { ResultOutput, Statement } from '../../protocol/index.ts';
import type { Scorer } from './deps.ts';

export function placeholderScorer(modelHash: `0x${string}`): Scorer {
  return {
    modelHash,
    executionProvider: 'none',
    async score(statements: Statement[], threshold: number): Promise<ResultOutput[]> {
      return statements.map((s) => {
        let net = 0;
        let fees = 0;
        for (const t of s.transactions) {
          net += t.amount;
          if (t.category === 'overdraft_fee' || t.category === 'returned_payment_fee') fees++;
        }
        const score = Math.max(0, Math.min(1000, 500 + Math.round(net / 2000) - fees * 40));
        const reasonCodes = fees > 0 ? ['FEES_PRESENT'] : [];
        return { score, decision: score >= threshold ? 'approve' : 'decline', threshold, reasonCodes };
      });
    },
  };
}
