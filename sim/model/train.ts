// Trains the credit model from seeded synthetic borrowers and exports it to ONNX plus a metadata card.
// Lives in sim/ because its data comes from the simulator; everything is seeded and ordered, so the same
// configuration always writes byte-identical files (`npm run model:train`).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateBorrower, GENERATOR_VERSION } from '../bank/generator.ts';
import {
  buildCreditModel,
  computeFeatures,
  CREDIT_MODEL_NAME,
  f32,
  FEATURES,
  IR_VERSION,
  modelHashOf,
  OPSET_VERSION,
  type ModelCard,
} from '../../enclave/model/index.ts';
import {
  auc,
  brierScore,
  calibrationTable,
  fitLogistic,
  fitStandardization,
  predictLogistic,
  standardize,
  type CalibrationBin,
} from './logistic.ts';

export type TrainingConfig = {
  trainSeed: string;
  trainCount: number;
  holdoutSeed: string;
  holdoutCount: number;
  /** Statement start date; lengths cycle through 3..12 months so the model sees varied history lengths. */
  start: string;
  l2: number;
  iterations: number;
};

export const DEFAULT_TRAINING: TrainingConfig = {
  trainSeed: 'props/credit-v1/train',
  trainCount: 8000,
  holdoutSeed: 'props/credit-v1/holdout',
  holdoutCount: 4000,
  start: '2026-01-01',
  l2: 1,
  iterations: 12,
};

export const MODEL_DIR = fileURLToPath(new URL('../../enclave/model/', import.meta.url));

type Dataset = { X: number[][]; y: boolean[] };

function dataset(seed: string, count: number, start: string): Dataset {
  const X: number[][] = [];
  const y: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const b = generateBorrower(seed, i, { start, months: 3 + (i % 10) });
    X.push(computeFeatures(b.statement));
    y.push(b.defaulted);
  }
  return { X, y };
}

const rate = (y: readonly boolean[]): number => y.filter(Boolean).length / y.length;

export type TrainedModel = { onnx: Uint8Array; card: ModelCard };

/**
 * Standardize, fit, and enforce each feature's documented risk direction: a feature whose fitted weight points the
 * other way (a collinearity artefact) is dropped and the fit repeated, so every reason code names a real adverse end.
 */
export function trainCreditModel(cfg: TrainingConfig = DEFAULT_TRAINING): TrainedModel {
  if (cfg.trainSeed === cfg.holdoutSeed)
    throw new RangeError('training: held-out seed must differ from the training seed');
  const train = dataset(cfg.trainSeed, cfg.trainCount, cfg.start);
  const standardization = fitStandardization(train.X);
  const Z = train.X.map((r) => standardize(r, standardization));
  const active = FEATURES.map(() => true);
  let model = fitLogistic(Z, train.y, { l2: cfg.l2, iterations: cfg.iterations });
  for (;;) {
    let worst = -1;
    let worstValue = 0;
    model.weights.forEach((w, j) => {
      const wrong = FEATURES[j]!.adverse === 'high' ? -w : w;
      if (active[j] && wrong > worstValue) {
        worst = j;
        worstValue = wrong;
      }
    });
    if (worst < 0) break;
    active[worst] = false;
    const masked = Z.map((r) => r.map((v, j) => (active[j] ? v : 0)));
    model = fitLogistic(masked, train.y, { l2: cfg.l2, iterations: cfg.iterations });
  }
  const params = {
    mean: f32(standardization.mean),
    std: f32(standardization.std),
    weights: f32(model.weights.map((w, j) => (active[j] ? w : 0))),
    intercept: Math.fround(model.intercept),
  };
  const onnx = buildCreditModel(params);

  // Held-out: a different seed, never seen in fitting; scored with the float32 parameters the file holds.
  const holdout = dataset(cfg.holdoutSeed, cfg.holdoutCount, cfg.start);
  const f32Model = { weights: params.weights, intercept: params.intercept };
  const p = holdout.X.map((r) => predictLogistic(f32Model, standardize(r, params)));
  const calibration: CalibrationBin[] = calibrationTable(p, holdout.y, 10);
  const card: ModelCard = {
    version: 1,
    name: CREDIT_MODEL_NAME,
    format: 'onnx',
    file: `${CREDIT_MODEL_NAME}.onnx`,
    modelHash: modelHashOf(onnx),
    irVersion: IR_VERSION,
    opset: OPSET_VERSION,
    params: FEATURES.length + 1,
    features: FEATURES.map((f, j) => ({
      name: f.name,
      adverse: f.adverse,
      reasonCode: f.reasonCode,
      mean: params.mean[j]!,
      std: params.std[j]!,
      weight: params.weights[j]!,
    })),
    intercept: params.intercept,
    training: {
      generatorVersion: GENERATOR_VERSION,
      seed: cfg.trainSeed,
      count: cfg.trainCount,
      defaultRate: rate(train.y),
      l2: cfg.l2,
      iterations: cfg.iterations,
      droppedFeatures: FEATURES.filter((_, j) => !active[j]).map((f) => f.name),
    },
    heldOut: {
      seed: cfg.holdoutSeed,
      count: cfg.holdoutCount,
      defaultRate: rate(holdout.y),
      auc: auc(p, holdout.y),
      brier: brierScore(p, holdout.y),
      calibration,
    },
  };
  return { onnx, card };
}

/** Writes `<name>.onnx` and `<name>.json` into `dir` (default: enclave/model). */
export async function writeModelFiles(
  m: TrainedModel,
  dir: string = MODEL_DIR,
): Promise<{ onnxPath: string; cardPath: string }> {
  await mkdir(dir, { recursive: true });
  const onnxPath = join(dir, m.card.file);
  const cardPath = join(dir, `${m.card.name}.json`);
  await writeFile(onnxPath, m.onnx);
  await writeFile(cardPath, `${JSON.stringify(m.card, null, 2)}\n`);
  return { onnxPath, cardPath };
}
