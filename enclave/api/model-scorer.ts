// The service's scorer on the ONNX credit model: features from the certified statements, one batched inference,
// decisions and reason codes under the lender's threshold. A submission's features are a pure function of its
// verified statement, so they are computed once per statement (the statement objects the service caches per
// submission) and reused by every job scored on it: on the scoring path only inference and signing remain.
import type { Statement } from '../../protocol/index.ts';
import { assessStatements, computeFeatures, type CreditModel } from '../model/index.ts';
import type { Scorer } from './deps.ts';

export function modelScorer(model: CreditModel): Scorer {
  const memo = new WeakMap<Statement, number[]>();
  const features = (s: Statement): number[] => {
    let row = memo.get(s);
    if (!row) {
      row = computeFeatures(s);
      memo.set(s, row);
    }
    return row;
  };
  return {
    modelHash: model.modelHash,
    executionProvider: model.executionProvider,
    async score(statements, threshold) {
      return (await assessStatements(model, statements, threshold, features)).map((a) => a.output);
    },
  };
}
