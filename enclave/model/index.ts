// The credit model's surface: features from a certified statement, the ONNX graphs, loading and batched scoring.
import { fileURLToPath } from 'node:url';

export {
  FEATURES,
  FEATURE_NAMES,
  FEATURE_COUNT,
  MIN_HISTORY_DAYS,
  MAX_HISTORY_DAYS,
  checkStatement,
  computeFeatures,
  type FeatureSpec,
} from './features.ts';
export { encodeModel, readModelMetadata, IR_VERSION, OPSET_VERSION, type GraphSpec } from './onnx.ts';
export {
  buildCreditModel,
  buildSyntheticMlp,
  mlpParamCount,
  f32,
  CREDIT_MODEL_NAME,
  INPUT_NAME,
  OUTPUT_PROBABILITY,
  OUTPUT_CONTRIBUTIONS,
  META,
  type CreditParams,
  type MlpOptions,
} from './graphs.ts';
export {
  loadModel,
  scoreBatch,
  decide,
  assessStatements,
  type Assessment,
  reasonCodesFrom,
  packBatch,
  modelHashOf,
  MAX_BATCH,
  MAX_REASON_CODES,
  REASON_MIN_CONTRIBUTION,
  type CreditModel,
  type ExecutionProvider,
  type LoadModelParameters,
  type Score,
} from './runtime.ts';
export { modelCard, readModelCard, type ModelCard } from './card.ts';

/** The committed model and its metadata card. */
export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('./credit-v1.onnx', import.meta.url));
export const DEFAULT_MODEL_CARD_PATH = fileURLToPath(new URL('./credit-v1.json', import.meta.url));
