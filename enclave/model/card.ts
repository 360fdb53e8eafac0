// The model card's machine-readable half: the metadata JSON written beside the ONNX file at training time
// (features, standardization, weights, held-out metrics). MODEL.md is the human-readable half.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { hex32, parseWith, PropsError } from '../../protocol/index.ts';

const calibrationBin = z.strictObject({
  bin: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  meanPredicted: z.number().min(0).max(1),
  observedRate: z.number().min(0).max(1),
});

export const modelCard = z.strictObject({
  version: z.literal(1),
  name: z.string().regex(/^[a-z0-9-]{1,64}$/),
  format: z.literal('onnx'),
  file: z.string().regex(/^[a-z0-9-]{1,64}\.onnx$/),
  modelHash: hex32,
  irVersion: z.number().int(),
  opset: z.number().int(),
  /** Learned parameters (weights and intercept). */
  params: z.number().int().nonnegative(),
  features: z
    .array(
      z.strictObject({
        name: z.string(),
        adverse: z.enum(['high', 'low']),
        reasonCode: z.string().regex(/^[A-Z0-9_]{1,48}$/),
        mean: z.number(),
        std: z.number(),
        weight: z.number(),
      }),
    )
    .max(256),
  intercept: z.number(),
  training: z.strictObject({
    generatorVersion: z.number().int(),
    seed: z.string(),
    count: z.number().int().positive(),
    defaultRate: z.number(),
    l2: z.number(),
    iterations: z.number().int(),
    droppedFeatures: z.array(z.string()),
  }),
  heldOut: z.strictObject({
    seed: z.string(),
    count: z.number().int().positive(),
    defaultRate: z.number(),
    auc: z.number().min(0).max(1),
    brier: z.number(),
    calibration: z.array(calibrationBin),
  }),
});
export type ModelCard = z.infer<typeof modelCard>;

export async function readModelCard(path: string): Promise<ModelCard> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new PropsError('ERR_FILE_UNREADABLE', { detail: 'model card', cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PropsError('ERR_JSON_MALFORMED', { detail: 'model card', cause: e });
  }
  return parseWith(modelCard, json, 'ERR_INPUT_MALFORMED');
}
