import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSupportedBackends } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBorrowers } from '../../sim/bank/generator.ts';
import {
  assessStatements,
  buildCreditModel,
  computeFeatures,
  decide,
  DEFAULT_MODEL_CARD_PATH,
  DEFAULT_MODEL_PATH,
  FEATURE_COUNT,
  FEATURES,
  loadModel,
  MAX_BATCH,
  MAX_REASON_CODES,
  modelHashOf,
  readModelCard,
  readModelMetadata,
  reasonCodesFrom,
  type CreditModel,
  type ModelCard,
} from './index.ts';

const cudaBundled = listSupportedBackends().some((b) => b.name === 'cuda' && b.bundled);
const committed = readFileSync(DEFAULT_MODEL_PATH);
const dir = mkdtempSync(join(tmpdir(), 'props-model-'));
const write = (name: string, bytes: Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

describe('credit model runtime (onnxruntime-node, CPU)', () => {
  let model: CreditModel;
  let card: ModelCard;
  beforeAll(async () => {
    card = await readModelCard(DEFAULT_MODEL_CARD_PATH);
    model = await loadModel({ path: DEFAULT_MODEL_PATH, expectedHash: card.modelHash, executionProvider: 'cpu' });
  });
  afterAll(async () => {
    await model.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the committed model, whose SHA-256 is the card hash, on the CPU backend', () => {
    expect(model.modelHash).toBe(card.modelHash);
    expect(model.modelHash).toBe(modelHashOf(committed));
    expect(model.executionProvider).toBe('cpu');
  });

  it('scores exactly as the card parameters say (the graph is the documented logistic model)', async () => {
    const rows = generateBorrowers('runtime', 16).map((b) => computeFeatures(b.statement));
    const scores = await model.scoreBatch(rows);
    rows.forEach((row, i) => {
      const contributions = row.map(
        (x, j) => (card.features[j]!.weight * (x - card.features[j]!.mean)) / card.features[j]!.std,
      );
      const pd = 1 / (1 + Math.exp(-(card.intercept + contributions.reduce((a, b) => a + b, 0))));
      const s = scores[i]!;
      expect(s.probabilityOfDefault).toBeCloseTo(pd, 4);
      s.contributions.forEach((c, j) => expect(c).toBeCloseTo(contributions[j]!, 4));
      expect(s.score).toBe(Math.round(1000 * (1 - s.probabilityOfDefault)));
      expect(s.reasonCodes.length).toBeLessThanOrEqual(MAX_REASON_CODES);
      expect(s.reasonCodes).toEqual(reasonCodesFrom(s.contributions));
    });
  });

  it('scores a batch of 64 exactly as one at a time', async () => {
    const rows = generateBorrowers('batch', 64).map((b) => computeFeatures(b.statement));
    const batch = await model.scoreBatch(rows);
    for (const i of [0, 31, 63]) expect((await model.scoreBatch([rows[i]!]))[0]).toEqual(batch[i]);
  });

  it('names the largest adverse contributions as reason codes, strongest first, ties in feature order', () => {
    const c = new Array<number>(FEATURE_COUNT).fill(0);
    c[9] = 0.9;
    c[7] = 0.5;
    c[2] = 0.5;
    c[5] = 0.3;
    c[10] = 0.2;
    c[4] = -2;
    expect(reasonCodesFrom(c)).toEqual([
      FEATURES[9].reasonCode,
      FEATURES[2].reasonCode,
      FEATURES[7].reasonCode,
      FEATURES[5].reasonCode,
    ]);
    expect(reasonCodesFrom(new Array<number>(FEATURE_COUNT).fill(-1))).toEqual([]);
  });

  it('decides under the lender threshold and refuses a bad threshold', () => {
    expect(decide({ score: 700, reasonCodes: ['LOW_INCOME'] }, 700)).toEqual({
      score: 700,
      decision: 'approve',
      threshold: 700,
      reasonCodes: ['LOW_INCOME'],
    });
    expect(decide({ score: 699, reasonCodes: [] }, 700).decision).toBe('decline');
    for (const t of [-1, 1001, 1.5, Number.NaN]) {
      expect(() => decide({ score: 1, reasonCodes: [] }, t)).toThrow(
        expect.objectContaining({ code: 'ERR_MODEL_THRESHOLD_INVALID' }),
      );
    }
  });

  it('assesses verified statements into signed-output shape, refusing a bad threshold before scoring', async () => {
    const statements = generateBorrowers('assess', 8).map((b) => b.statement);
    const out = await assessStatements(model, statements, 800);
    const direct = await model.scoreBatch(statements.map((s) => computeFeatures(s)));
    out.forEach((a, i) => expect(a.output).toEqual(decide(direct[i]!, 800)));
    let called = false;
    const spy = {
      scoreBatch: async () => {
        called = true;
        return [];
      },
    };
    await expect(assessStatements(spy, statements, 5000)).rejects.toMatchObject({
      code: 'ERR_MODEL_THRESHOLD_INVALID',
    });
    expect(called).toBe(false);
  });

  it('refuses malformed batches', async () => {
    const ok = new Array<number>(FEATURE_COUNT).fill(0);
    const bad: unknown[] = [
      [],
      [ok.slice(1)],
      [[...ok.slice(1), Number.NaN]],
      [[...ok.slice(1), Infinity]],
      [[...ok.slice(1), '1']],
      new Array(MAX_BATCH + 1).fill(ok),
      'x',
    ];
    for (const b of bad)
      await expect(model.scoreBatch(b as number[][])).rejects.toMatchObject({ code: 'ERR_MODEL_INPUT_INVALID' });
  });

  it('tampered model file: one flipped weight byte stops loading with ERR_MODEL_HASH_MISMATCH', async () => {
    const t = Uint8Array.from(committed);
    t[t.length - 200] = (t[t.length - 200] ?? 0) ^ 0x01;
    await expect(
      loadModel({ path: write('tampered.onnx', t), expectedHash: card.modelHash, executionProvider: 'cpu' }),
    ).rejects.toMatchObject({ code: 'ERR_MODEL_HASH_MISMATCH' });
  });

  it('model swap: another valid model under the committed hash is refused', async () => {
    const other = buildCreditModel({
      mean: card.features.map((f) => f.mean),
      std: card.features.map((f) => f.std),
      weights: card.features.map(() => 0),
      intercept: -10,
    });
    await expect(
      loadModel({ path: write('other.onnx', other), expectedHash: card.modelHash, executionProvider: 'cpu' }),
    ).rejects.toMatchObject({ code: 'ERR_MODEL_HASH_MISMATCH' });
  });

  it('refuses a model whose feature layout differs from this build', async () => {
    const shuffled = [...FEATURES].reverse();
    const bytes = buildCreditModel(
      { mean: shuffled.map(() => 0), std: shuffled.map(() => 1), weights: shuffled.map(() => 0), intercept: 0 },
      shuffled,
    );
    await expect(
      loadModel({ path: write('layout.onnx', bytes), expectedHash: modelHashOf(bytes), executionProvider: 'cpu' }),
    ).rejects.toMatchObject({ code: 'ERR_MODEL_FEATURES_MISMATCH' });
    expect(readModelMetadata(bytes)['props.model']).toBe('credit-v1');
  });

  it('refuses files that are not ONNX models, unreadable paths and malformed expected hashes', async () => {
    await expect(
      loadModel({ path: write('junk.onnx', new Uint8Array([0xff, 0xff, 0xff])), executionProvider: 'cpu' }),
    ).rejects.toMatchObject({ code: 'ERR_MODEL_LOAD_FAILED' });
    await expect(
      loadModel({ path: write('empty.onnx', new Uint8Array()), executionProvider: 'cpu' }),
    ).rejects.toMatchObject({ code: 'ERR_MODEL_LOAD_FAILED' });
    await expect(loadModel({ path: join(dir, 'missing.onnx'), executionProvider: 'cpu' })).rejects.toMatchObject({
      code: 'ERR_FILE_UNREADABLE',
    });
    await expect(
      loadModel({ path: DEFAULT_MODEL_PATH, expectedHash: card.modelHash.toUpperCase(), executionProvider: 'cpu' }),
    ).rejects.toMatchObject({ code: 'ERR_INPUT_MALFORMED' });
    await expect(loadModel({ path: DEFAULT_MODEL_PATH, executionProvider: 'tpu' as 'cpu' })).rejects.toMatchObject({
      code: 'ERR_MODEL_PROVIDER_UNAVAILABLE',
    });
  });

  describe.skipIf(cudaBundled)('without a CUDA build of onnxruntime', () => {
    it('refuses CUDA unless CPU fallback is allowed', async () => {
      await expect(loadModel({ path: DEFAULT_MODEL_PATH, executionProvider: 'cuda' })).rejects.toMatchObject({
        code: 'ERR_MODEL_PROVIDER_UNAVAILABLE',
      });
    });
    it('falls back to CPU when allowed, and reports the provider actually used', async () => {
      const m = await loadModel({ path: DEFAULT_MODEL_PATH, executionProvider: 'cuda', allowCpuFallback: true });
      expect(m.executionProvider).toBe('cpu');
      await m.release();
    });
  });
});
