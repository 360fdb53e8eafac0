// The service scorer computes a submission's features once and reuses them for every job on that statement.
import { describe, expect, it } from 'vitest';
import { computeFeatures, SAMPLE_STATEMENT, type CreditModel } from '../index.ts';
import { modelScorer } from './model-scorer.ts';

describe('modelScorer', () => {
  it('scores on the statement’s features, computed once per statement object and reused by later jobs', async () => {
    const seen: number[][][] = [];
    const model = {
      modelHash: `0x${'ab'.repeat(32)}`,
      executionProvider: 'cpu',
      async scoreBatch(rows: number[][]) {
        seen.push(rows);
        return rows.map(() => ({
          score: 700,
          probabilityOfDefault: 0.1,
          reasonCodes: ['LOW_INCOME'],
          contributions: [],
        }));
      },
    } as unknown as CreditModel;
    const scorer = modelScorer(model);
    const other = structuredClone(SAMPLE_STATEMENT);
    const a = await scorer.score([SAMPLE_STATEMENT, other], 600);
    const b = await scorer.score([SAMPLE_STATEMENT], 800);
    expect(a.map((o) => o.decision)).toEqual(['approve', 'approve']);
    expect(b[0]).toMatchObject({ score: 700, decision: 'decline', threshold: 800 });
    expect(seen[0]![0]).toEqual(computeFeatures(SAMPLE_STATEMENT));
    // The same row object: no second feature extraction for the same statement.
    expect(seen[1]![0]).toBe(seen[0]![0]);
    expect(seen[0]![1]).not.toBe(seen[0]![0]);
  });
});
