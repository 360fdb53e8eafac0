// The service's scorer on the ONNX credit model: features from the certified statements, one batched inference,
// decisions and reason codes under the lender's threshold.
import { assessStatements, type CreditModel } from '../model/index.ts';
import type { Scorer } from './deps.ts';

export function modelScorer(model: CreditModel): Scorer {
  return {
    modelHash: model.modelHash,
    executionProvider: model.executionProvider,
    async score(statements, threshold) {
      return (await assessStatements(model, statements, threshold)).map((a) => a.output);
    },
  };
}
