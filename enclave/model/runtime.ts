// Loading and running the credit model with onnxruntime-node: the file is hashed and checked before anything else
// reads it, one InferenceSession is created from those same bytes, and every score carries reason codes derived from
// the model's own per-feature contributions.
import { open } from 'node:fs/promises';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { hex32, PropsError, sha256, toHex, type Hex, type ResultOutput, type Statement } from '../../protocol/index.ts';
import { computeFeatures, FEATURES, type FeatureSpec } from './features.ts';
import { readModelMetadata } from './onnx.ts';
import { INPUT_NAME, META, OUTPUT_CONTRIBUTIONS, OUTPUT_PROBABILITY } from './graphs.ts';

export type ExecutionProvider = 'cpu' | 'cuda';

export type LoadModelParameters = {
  path: string;
  /** SHA-256 of the file, 0x + 64 lowercase hex (the Manifest's modelHash). Omitted: nothing to compare (tools only). */
  expectedHash?: string;
  executionProvider: ExecutionProvider;
  /** CUDA requested but unavailable: run on CPU (and report 'cpu') instead of refusing. Default false. */
  allowCpuFallback?: boolean;
  /** Threads for one inference; default: onnxruntime's choice. */
  intraOpNumThreads?: number;
};

export type Score = {
  /** 0..1000, higher = lower risk: round(1000 × (1 − probabilityOfDefault)). */
  score: number;
  probabilityOfDefault: number;
  /** Up to MAX_REASON_CODES stable codes, strongest adverse factor first. */
  reasonCodes: string[];
  /** Per-feature push on the log-odds of default, in FEATURES order (positive = adverse). */
  contributions: number[];
};

export type CreditModel = {
  modelHash: Hex;
  /** The provider the session actually runs on. */
  executionProvider: ExecutionProvider;
  features: readonly FeatureSpec[];
  /** The one session, exposed for side-by-side benchmarks of bare inference. */
  session: InferenceSession;
  scoreBatch(rows: readonly (readonly number[])[]): Promise<Score[]>;
  release(): Promise<void>;
};

export const MAX_BATCH = 4096;
export const MAX_REASON_CODES = 4;
/** Contributions below this (log-odds) are too small to name as a reason for a decision. */
export const REASON_MIN_CONTRIBUTION = 0.01;
/** Refuse model files beyond this size before hashing (the credit model is a few kilobytes). */
export const MAX_MODEL_BYTES = 2 * 1024 ** 3;

export function modelHashOf(bytes: Uint8Array): Hex {
  return toHex(sha256(bytes));
}

async function createSession(
  bytes: Uint8Array,
  provider: ExecutionProvider,
  threads: number | undefined,
): Promise<InferenceSession> {
  const options: InferenceSession.SessionOptions = { executionProviders: [provider], graphOptimizationLevel: 'all' };
  if (threads !== undefined) options.intraOpNumThreads = threads;
  return InferenceSession.create(bytes, options);
}

/** Checks that the model's recorded feature layout is exactly this build's FEATURES. */
function checkLayout(bytes: Uint8Array): void {
  let meta: Record<string, string>;
  try {
    meta = readModelMetadata(bytes);
  } catch (e) {
    throw new PropsError('ERR_MODEL_LOAD_FAILED', { detail: 'not an ONNX model', cause: e });
  }
  const expected = JSON.stringify(
    FEATURES.map((f) => ({ name: f.name, adverse: f.adverse, reasonCode: f.reasonCode })),
  );
  if (meta[META.features] !== expected) throw new PropsError('ERR_MODEL_FEATURES_MISMATCH', { detail: META.features });
  if (meta[META.outputs] !== `${OUTPUT_PROBABILITY},${OUTPUT_CONTRIBUTIONS}`) {
    throw new PropsError('ERR_MODEL_FEATURES_MISMATCH', { detail: META.outputs });
  }
}

/**
 * Loads the credit model once (at boot). Order matters: size check, hash check against the expected hash, layout
 * check, then the session is created from the very bytes that were hashed (no second read of the path).
 */
export async function loadModel(p: LoadModelParameters): Promise<CreditModel> {
  if (p.executionProvider !== 'cpu' && p.executionProvider !== 'cuda') {
    throw new PropsError('ERR_MODEL_PROVIDER_UNAVAILABLE', { detail: String(p.executionProvider).slice(0, 16) });
  }
  if (p.expectedHash !== undefined && !hex32.safeParse(p.expectedHash).success) {
    throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'expectedHash' });
  }
  let bytes: Uint8Array;
  // One open file: its size is checked before reading, and what is read is what gets hashed and loaded.
  let fh;
  try {
    fh = await open(p.path, 'r');
  } catch (e) {
    throw new PropsError('ERR_FILE_UNREADABLE', { detail: 'model file', cause: e });
  }
  try {
    const { size } = await fh.stat();
    if (size === 0 || size > MAX_MODEL_BYTES) throw new PropsError('ERR_MODEL_LOAD_FAILED', { detail: `size ${size}` });
    const buf = await fh.readFile();
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (e instanceof PropsError) throw e;
    throw new PropsError('ERR_FILE_UNREADABLE', { detail: 'model file', cause: e });
  } finally {
    await fh.close();
  }
  if (bytes.length === 0 || bytes.length > MAX_MODEL_BYTES)
    throw new PropsError('ERR_MODEL_LOAD_FAILED', { detail: `size ${bytes.length}` });
  const modelHash = modelHashOf(bytes);
  if (p.expectedHash !== undefined && modelHash !== p.expectedHash) throw new PropsError('ERR_MODEL_HASH_MISMATCH');
  checkLayout(bytes);

  let session: InferenceSession;
  let used: ExecutionProvider = p.executionProvider;
  try {
    session = await createSession(bytes, p.executionProvider, p.intraOpNumThreads);
  } catch (e) {
    if (p.executionProvider !== 'cuda') throw new PropsError('ERR_MODEL_LOAD_FAILED', { detail: 'session', cause: e });
    if (!p.allowCpuFallback) throw new PropsError('ERR_MODEL_PROVIDER_UNAVAILABLE', { detail: 'cuda', cause: e });
    try {
      session = await createSession(bytes, 'cpu', p.intraOpNumThreads);
    } catch (e2) {
      throw new PropsError('ERR_MODEL_LOAD_FAILED', { detail: 'session', cause: e2 });
    }
    used = 'cpu';
  }
  if (
    !session.inputNames.includes(INPUT_NAME) ||
    !session.outputNames.includes(OUTPUT_PROBABILITY) ||
    !session.outputNames.includes(OUTPUT_CONTRIBUTIONS)
  ) {
    await session.release();
    throw new PropsError('ERR_MODEL_FEATURES_MISMATCH', { detail: 'graph inputs/outputs' });
  }
  return {
    modelHash,
    executionProvider: used,
    features: FEATURES,
    session,
    scoreBatch: (rows) => scoreBatch(session, rows),
    release: () => session.release(),
  };
}

/** Packs a batch into one float32 tensor, refusing anything but 1..MAX_BATCH rows of finite numbers of the right width. */
export function packBatch(rows: unknown, width = FEATURES.length): Float32Array {
  if (!Array.isArray(rows) || rows.length === 0 || rows.length > MAX_BATCH) {
    throw new PropsError('ERR_MODEL_INPUT_INVALID', { detail: `batch size must be 1..${MAX_BATCH}` });
  }
  const data = new Float32Array(rows.length * width);
  rows.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== width)
      throw new PropsError('ERR_MODEL_INPUT_INVALID', { detail: `row ${i}: expected ${width} features` });
    for (let j = 0; j < width; j++) {
      const v: unknown = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new PropsError('ERR_MODEL_INPUT_INVALID', { detail: `row ${i}, feature ${j}: not a finite number` });
      data[i * width + j] = v;
    }
  });
  return data;
}

/** The strongest adverse factors: positive contributions above the floor, largest first, ties by feature order. */
export function reasonCodesFrom(
  contributions: ArrayLike<number>,
  features: readonly FeatureSpec[] = FEATURES,
): string[] {
  // Insertion into a top-k list of indices: no per-feature allocations on the scoring path.
  const top: number[] = [];
  for (let j = 0; j < contributions.length; j++) {
    const c = contributions[j] as number;
    if (!(c > REASON_MIN_CONTRIBUTION)) continue;
    let k = top.length;
    while (k > 0 && (contributions[top[k - 1] as number] as number) < c) k--;
    if (k >= MAX_REASON_CODES) continue;
    top.splice(k, 0, j);
    if (top.length > MAX_REASON_CODES) top.pop();
  }
  return top.map((j) => (features[j] as FeatureSpec).reasonCode);
}

export async function scoreBatch(session: InferenceSession, rows: readonly (readonly number[])[]): Promise<Score[]> {
  const width = FEATURES.length;
  const data = packBatch(rows, width);
  const n = rows.length;
  const out = await session.run({ [INPUT_NAME]: new Tensor('float32', data, [n, width]) });
  const prob = out[OUTPUT_PROBABILITY]?.data;
  const contrib = out[OUTPUT_CONTRIBUTIONS]?.data;
  if (
    !(prob instanceof Float32Array) ||
    !(contrib instanceof Float32Array) ||
    prob.length !== n ||
    contrib.length !== n * width
  ) {
    throw new PropsError('ERR_MODEL_LOAD_FAILED', { detail: 'unexpected model outputs' });
  }
  const scores: Score[] = [];
  for (let i = 0; i < n; i++) {
    const pd = prob[i] as number;
    // A plain loop: Array.from on a typed subarray costs more than the inference itself at this model size.
    const contributions = new Array<number>(width);
    for (let j = 0; j < width; j++) contributions[j] = contrib[i * width + j] as number;
    scores.push({
      score: Math.min(1000, Math.max(0, Math.round(1000 * (1 - pd)))),
      probabilityOfDefault: pd,
      reasonCodes: reasonCodesFrom(contributions),
      contributions,
    });
  }
  return scores;
}

/** The signed output for one score under a lender's threshold: approve when score ≥ threshold. */
export function decide(s: Pick<Score, 'score' | 'reasonCodes'>, threshold: number): ResultOutput {
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > 1000)
    throw new PropsError('ERR_MODEL_THRESHOLD_INVALID');
  // Members in RFC 8785 order, as the signed statement wants them (enclave/boot.ts bodyFor).
  return {
    decision: s.score >= threshold ? 'approve' : 'decline',
    reasonCodes: [...s.reasonCodes],
    score: s.score,
    threshold,
  };
}

export type Assessment = { output: ResultOutput; probabilityOfDefault: number; contributions: number[] };

/**
 * The enclave's scoring step for already-verified statements: features, one batched inference, decision and
 * reason codes. The threshold is checked before any work, so a bad request scores nothing. `features` may be a
 * memo of `computeFeatures` (the service computes each submission's features once, not per job).
 */
export async function assessStatements(
  model: Pick<CreditModel, 'scoreBatch'>,
  statements: readonly Statement[],
  threshold: number,
  features: (s: Statement) => number[] = computeFeatures,
): Promise<Assessment[]> {
  decide({ score: 0, reasonCodes: [] }, threshold);
  const rows = statements.map((s) => features(s));
  const scores = await model.scoreBatch(rows);
  return scores.map((s) => ({
    output: decide(s, threshold),
    probabilityOfDefault: s.probabilityOfDefault,
    contributions: s.contributions,
  }));
}
