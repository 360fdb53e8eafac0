// Model benchmark: bare onnxruntime inference at batch 1 and 64 for the committed credit model and for a seeded
// synthetic MLP of ≥ 10M parameters (generated into props-out/, never committed), plus the credit model's own
// scoring path (packing + reason codes) side by side. Run: npx tsx bench/model.ts [--json] [--provider cpu|cuda]
// The measuring functions are exported so the attested path can be timed next to them on the same inputs.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { env, InferenceSession, Tensor } from 'onnxruntime-node';
import {
  buildSyntheticMlp,
  computeFeatures,
  DEFAULT_MODEL_PATH,
  FEATURE_COUNT,
  INPUT_NAME,
  loadModel,
  type CreditModel,
  type ExecutionProvider,
} from '../enclave/model/index.ts';
import { generateBorrowers } from '../sim/bank/generator.ts';
import { createRng } from '../sim/bank/prng.ts';

export type Timing = {
  batch: number;
  iterations: number;
  p50Ms: number;
  p90Ms: number;
  meanMs: number;
  /** p50 per row, microseconds. */
  perRowUs: number;
};

export type BenchOptions = { warmup?: number; minIterations?: number; maxIterations?: number; budgetMs?: number };

/** Times an async operation: warm-up, then repeats until the time budget or the iteration cap, whichever first. */
export async function timeAsync(batch: number, op: () => Promise<unknown>, o: BenchOptions = {}): Promise<Timing> {
  return (await timeInterleaved(batch, [op], o))[0] as Timing;
}

/**
 * Times operations side by side: each round runs every operation once, starting from a different one each round,
 * so a slow spell of a shared machine lands on all of them alike and their ratios stay steady. Warm-up rounds
 * first; then rounds until the time budget or the iteration cap, whichever first.
 */
export async function timeInterleaved(
  batch: number,
  ops: readonly (() => Promise<unknown>)[],
  o: BenchOptions = {},
): Promise<Timing[]> {
  const { warmup = 10, minIterations = 20, maxIterations = 5_000, budgetMs = 1_500 } = o;
  for (let i = 0; i < warmup; i++) for (const op of ops) await op();
  const samples: number[][] = ops.map(() => []);
  const start = performance.now();
  for (
    let round = 0;
    round < maxIterations && (round < minIterations || performance.now() - start < budgetMs);
    round++
  ) {
    for (let k = 0; k < ops.length; k++) {
      const j = (round + k) % ops.length;
      const t0 = process.hrtime.bigint();
      await (ops[j] as () => Promise<unknown>)();
      (samples[j] as number[]).push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return samples.map((s) => timingOf(batch, s));
}

function timingOf(batch: number, samples: number[]): Timing {
  samples.sort((a, b) => a - b);
  const q = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? Number.NaN;
  const p50Ms = q(0.5);
  return {
    batch,
    iterations: samples.length,
    p50Ms,
    p90Ms: q(0.9),
    meanMs: samples.reduce((a, b) => a + b, 0) / samples.length,
    perRowUs: (p50Ms * 1000) / batch,
  };
}

/** A [batch, width] float32 input built from feature rows, cycled to fill the batch. */
export function inputTensor(rows: readonly (readonly number[])[], batch: number, width = FEATURE_COUNT): Tensor {
  const data = new Float32Array(batch * width);
  for (let i = 0; i < batch; i++) data.set(rows[i % rows.length] as number[], i * width);
  return new Tensor('float32', data, [batch, width]);
}

/** Bare inference: one session.run on a prepared tensor, nothing else. */
export async function benchBareInference(
  session: InferenceSession,
  rows: readonly (readonly number[])[],
  batch: number,
  o?: BenchOptions,
): Promise<Timing> {
  const feeds = { [INPUT_NAME]: inputTensor(rows, batch) };
  return timeAsync(batch, () => session.run(feeds), o);
}

/** The credit model's scoring call: input checks, packing, inference, reason codes. */
export async function benchScoreBatch(
  model: CreditModel,
  rows: readonly (readonly number[])[],
  batch: number,
  o?: BenchOptions,
): Promise<Timing> {
  const input = Array.from({ length: batch }, (_, i) => rows[i % rows.length] as number[]);
  return timeAsync(batch, () => model.scoreBatch(input), o);
}

/** Seeded synthetic MLP (default 3 × 2304 hidden, 10.66M parameters) written under props-out/bench. */
export async function syntheticMlpFile(
  o: { hidden?: number; layers?: number; seed?: string } = {},
): Promise<{ path: string; params: number; bytes: number }> {
  const hidden = o.hidden ?? 2304;
  const layers = o.layers ?? 3;
  const rng = createRng(`props/bench/mlp/${o.seed ?? 'v1'}`);
  const { bytes, params } = buildSyntheticMlp({ inputs: FEATURE_COUNT, hidden, layers, random: rng.next });
  const dir = fileURLToPath(new URL('../props-out/bench/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const path = join(dir, `mlp-${hidden}x${layers}.onnx`);
  await writeFile(path, bytes);
  return { path, params, bytes: bytes.length };
}

const fmt = (t: Timing): string =>
  `b=${String(t.batch).padStart(2)}  p50 ${t.p50Ms.toFixed(4).padStart(9)} ms  p90 ${t.p90Ms.toFixed(4).padStart(9)} ms  ${t.perRowUs.toFixed(2).padStart(9)} µs/row  (n=${t.iterations})`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      provider: { type: 'string', default: 'cpu' },
      threads: { type: 'string' },
    },
  });
  const provider = values.provider as ExecutionProvider;
  if (provider !== 'cpu' && provider !== 'cuda') throw new Error('--provider must be cpu or cuda');
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  env.logLevel = 'error';
  const rows = generateBorrowers('props/bench/credit', 64).map((b) => computeFeatures(b.statement));

  const credit = await loadModel({
    path: DEFAULT_MODEL_PATH,
    executionProvider: provider,
    ...(threads !== undefined ? { intraOpNumThreads: threads } : {}),
  });
  const mlp = await syntheticMlpFile();
  const mlpOptions: InferenceSession.SessionOptions = {
    executionProviders: [credit.executionProvider],
    graphOptimizationLevel: 'all',
  };
  if (threads !== undefined) mlpOptions.intraOpNumThreads = threads;
  const mlpSession = await InferenceSession.create(mlp.path, mlpOptions);

  const results: Record<string, Timing> = {};
  for (const batch of [1, 64]) {
    results[`credit.bare.b${batch}`] = await benchBareInference(credit.session, rows, batch);
    results[`credit.scoreBatch.b${batch}`] = await benchScoreBatch(credit, rows, batch);
    results[`mlp.bare.b${batch}`] = await benchBareInference(mlpSession, rows, batch, {
      warmup: 5,
      minIterations: 10,
      budgetMs: 3_000,
    });
  }
  const r = (k: string): Timing => results[k] as Timing;
  const ratios = {
    creditScoreVsBare_b1: r('credit.scoreBatch.b1').p50Ms / r('credit.bare.b1').p50Ms,
    creditScoreVsBare_b64: r('credit.scoreBatch.b64').p50Ms / r('credit.bare.b64').p50Ms,
    creditScoreAddedMs_b1: r('credit.scoreBatch.b1').p50Ms - r('credit.bare.b1').p50Ms,
    mlpVsCredit_b1: r('mlp.bare.b1').p50Ms / r('credit.bare.b1').p50Ms,
    mlpVsCredit_b64: r('mlp.bare.b64').p50Ms / r('credit.bare.b64').p50Ms,
  };
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    onnxruntime: env.versions.node ?? 'unknown',
  };
  const out = {
    machine,
    executionProvider: credit.executionProvider,
    models: {
      credit: { modelHash: credit.modelHash, params: FEATURE_COUNT + 1 },
      mlp: { params: mlp.params, bytes: mlp.bytes },
    },
    results,
    ratios,
  };
  await credit.release();
  await mlpSession.release();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const lines = [
    `machine: ${machine.cpu} × ${machine.cores}, node ${machine.node}, onnxruntime-node ${machine.onnxruntime}, provider ${out.executionProvider}`,
    `credit-v1 (${out.models.credit.params} params) vs synthetic MLP (${(mlp.params / 1e6).toFixed(2)}M params, ${(mlp.bytes / 1e6).toFixed(1)} MB)`,
    ...Object.entries(results).map(([k, t]) => `${k.padEnd(22)} ${fmt(t)}`),
    `ratios: ${Object.entries(ratios)
      .map(([k, v]) => `${k}=${v.toFixed(3)}`)
      .join('  ')}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
