// The ONNX graphs Props builds: the credit model (standardize → per-feature contributions → sum → sigmoid, so
// reason codes come from the model's own outputs) and a seeded synthetic MLP of any size for benchmarks.
import { encodeModel, type Initializer, type Node } from './onnx.ts';
import { FEATURES, type FeatureSpec } from './features.ts';

export const INPUT_NAME = 'features';
export const OUTPUT_PROBABILITY = 'probability';
export const OUTPUT_CONTRIBUTIONS = 'contributions';
export const CREDIT_MODEL_NAME = 'credit-v1';

/** Metadata keys the runtime reads back from the model file (covered by the model hash). */
export const META = { name: 'props.model', features: 'props.features', outputs: 'props.outputs' } as const;

export type CreditParams = { mean: number[]; std: number[]; weights: number[]; intercept: number };

/** Float32 rounding, so JavaScript-side metrics see exactly the parameters the ONNX file holds. */
export const f32 = (xs: readonly number[]): number[] => xs.map((x) => Math.fround(x));

/**
 * probability[N,1] = sigmoid(intercept + Σ_j contributions[N,j]); contributions[N,j] = w_j (x_j − mean_j) / std_j.
 * A contribution is the feature's push on the log-odds of default relative to the training population's mean.
 */
export function buildCreditModel(p: CreditParams, features: readonly FeatureSpec[] = FEATURES): Uint8Array {
  const f = features.length;
  if (p.mean.length !== f || p.std.length !== f || p.weights.length !== f)
    throw new RangeError('credit graph: parameter sizes');
  const nodes: Node[] = [
    { name: 'center', opType: 'Sub', inputs: [INPUT_NAME, 'mean'], outputs: ['centered'] },
    { name: 'scale', opType: 'Div', inputs: ['centered', 'std'], outputs: ['standardized'] },
    { name: 'contribute', opType: 'Mul', inputs: ['standardized', 'weights'], outputs: [OUTPUT_CONTRIBUTIONS] },
    {
      name: 'sum',
      opType: 'ReduceSum',
      inputs: [OUTPUT_CONTRIBUTIONS, 'axes'],
      outputs: ['partial_logit'],
      attrs: [{ name: 'keepdims', int: 1 }],
    },
    { name: 'bias', opType: 'Add', inputs: ['partial_logit', 'intercept'], outputs: ['logit'] },
    { name: 'link', opType: 'Sigmoid', inputs: ['logit'], outputs: [OUTPUT_PROBABILITY] },
  ];
  const initializers: Initializer[] = [
    { name: 'mean', dims: [f], float32: p.mean },
    { name: 'std', dims: [f], float32: p.std },
    { name: 'weights', dims: [f], float32: p.weights },
    { name: 'axes', dims: [1], int64: [1] },
    { name: 'intercept', dims: [1], float32: [p.intercept] },
  ];
  return encodeModel({
    name: CREDIT_MODEL_NAME,
    docString:
      'Props credit model v1: logistic regression on statement features; outputs probability of default and per-feature log-odds contributions.',
    nodes,
    initializers,
    inputs: [{ name: INPUT_NAME, dims: ['batch', f] }],
    outputs: [
      { name: OUTPUT_PROBABILITY, dims: ['batch', 1] },
      { name: OUTPUT_CONTRIBUTIONS, dims: ['batch', f] },
    ],
    metadata: {
      [META.name]: CREDIT_MODEL_NAME,
      [META.features]: JSON.stringify(
        features.map((x) => ({ name: x.name, adverse: x.adverse, reasonCode: x.reasonCode })),
      ),
      [META.outputs]: `${OUTPUT_PROBABILITY},${OUTPUT_CONTRIBUTIONS}`,
    },
  });
}

export type MlpOptions = {
  inputs: number;
  hidden: number;
  layers: number;
  /** Uniform [0, 1) source for the weights, injected so the caller picks a seeded generator. */
  random: () => number;
};

export function mlpParamCount(o: Omit<MlpOptions, 'random'>): number {
  const hiddenLayers = o.layers - 1;
  return o.inputs * o.hidden + o.hidden + hiddenLayers * (o.hidden * o.hidden + o.hidden) + o.hidden + 1;
}

/**
 * A synthetic MLP (Gemm+Relu stack, sigmoid head) with seeded He-uniform weights: a stand-in for a large model,
 * used only to measure how fixed per-request overhead compares with inference cost as models grow.
 */
export function buildSyntheticMlp(o: MlpOptions): { bytes: Uint8Array; params: number } {
  if (o.layers < 1 || o.hidden < 1 || o.inputs < 1) throw new RangeError('mlp: sizes must be positive');
  const nodes: Node[] = [];
  const initializers: Initializer[] = [];
  const dense = (name: string, fanIn: number, fanOut: number, input: string, output: string): void => {
    const bound = Math.sqrt(6 / fanIn);
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = (o.random() * 2 - 1) * bound;
    initializers.push(
      { name: `${name}_w`, dims: [fanIn, fanOut], float32: w },
      { name: `${name}_b`, dims: [fanOut], float32: new Float32Array(fanOut) },
    );
    nodes.push({ name, opType: 'Gemm', inputs: [input, `${name}_w`, `${name}_b`], outputs: [output] });
  };
  let prev = INPUT_NAME;
  let width = o.inputs;
  for (let l = 0; l < o.layers; l++) {
    dense(`dense${l}`, width, o.hidden, prev, `pre${l}`);
    nodes.push({ name: `relu${l}`, opType: 'Relu', inputs: [`pre${l}`], outputs: [`act${l}`] });
    prev = `act${l}`;
    width = o.hidden;
  }
  dense('head', width, 1, prev, 'logit');
  nodes.push({ name: 'link', opType: 'Sigmoid', inputs: ['logit'], outputs: [OUTPUT_PROBABILITY] });
  const bytes = encodeModel({
    name: 'synthetic-mlp',
    docString: 'Props synthetic MLP for benchmarks; weights are seeded noise, not a trained model.',
    nodes,
    initializers,
    inputs: [{ name: INPUT_NAME, dims: ['batch', o.inputs] }],
    outputs: [{ name: OUTPUT_PROBABILITY, dims: ['batch', 1] }],
    metadata: { [META.name]: 'synthetic-mlp' },
  });
  return { bytes, params: mlpParamCount(o) };
}
