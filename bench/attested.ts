// The attested scoring path against bare onnxruntime inference, side by side in one run, on the same inputs:
// batch 1 and 64, for the default credit model and for a generated ≥10M-parameter MLP. The attested path is what
// the enclave does per request: features from the certified statements, one batched inference, a signed result per
// row (ES256 JWS + EIP-712 signature by the on-chain key) and a transparency-log append (RFC 9162 leaf).
import { InferenceSession } from 'onnxruntime-node';
import {
  commitInputs,
  computeFeatures,
  DEFAULT_MODEL_PATH,
  loadModel,
  loadPipelinePolicy,
  bootEnclave,
  createSimPlatform,
  decide,
  type Enclave,
  type ScoringRequest,
} from '../enclave/index.ts';
import {
  canonicalBytes,
  keccak_256,
  leafHash,
  fromHex,
  sha256Digest,
  tagFrame,
  TAGS,
  toHex,
  treeWithProofs,
  type Hex,
  type ResultBody,
  type ResultOutput,
  type Statement,
} from '../protocol/index.ts';
import { generateBorrowers } from '../sim/bank/generator.ts';
import { inputTensor, syntheticMlpFile, timeInterleaved, type Timing } from './model.ts';
import { wantsJson } from './harness.ts';
import { INPUT_NAME } from '../enclave/model/graphs.ts';

type Row = {
  model: string;
  params: number;
  batch: number;
  mode: Mode | 'hashes+head only';
  bareMs: number;
  attestedMs: number;
  ratio: number;
  addedMs: number;
};
// per-result: a JWS + EIP-712 signature per result (features computed per request).
// batch: one JWS over the batch's Merkle root, an inclusion proof per result (features computed per request).
// batch+ingest: the same with the feature rows made once at ingest, as input commitments are.
type Mode = 'per-result' | 'batch' | 'batch+ingest';
const MODES: Mode[] = ['per-result', 'batch', 'batch+ingest'];

// Input commitments are made once at ingest (the submission receipt carries them), not per scoring request; the
// requests (ids, nonce, consent) arrive with the jobs, so they are made before timing too.
type Input = { statement: Statement; commitment: Hex; features: number[]; request: ScoringRequest };

async function attestedBatch(
  mode: Mode,
  enclave: Enclave,
  inputs: readonly Input[],
  infer: (rows: number[][]) => Promise<ResultOutput[]>,
  log: Uint8Array[],
): Promise<void> {
  const rows =
    mode === 'batch+ingest' ? inputs.map((x) => x.features) : inputs.map((x) => computeFeatures(x.statement));
  const outputs = await infer(rows);
  if (mode !== 'per-result') {
    const { leaves } = await enclave.signResultBatch(
      outputs.map((output, i) => ({ request: inputs[i]!.request, output, inputCommitment: inputs[i]!.commitment })),
    );
    log.push(...leaves);
    return;
  }
  for (const [i, output] of outputs.entries()) {
    const { structHash } = await enclave.signResultWithBody(inputs[i]!.request, output, inputs[i]!.commitment);
    log.push(leafHash(fromHex(structHash, 32)));
  }
}

/**
 * The floor under the attested path: only the protocol's cryptography for a batch — each statement's SHA-256
 * result hash over its tag-framed RFC 8785 text, its EIP-712 struct hash (nine words), its SHA-256 log leaf, the
 * batch's tree and one ES256 head signature — on byte strings written beforehand (the real statements' texts; hash
 * costs depend only on lengths), with nothing else of the path: no statement writing, no results, no hex. Timed after
 * the same inference as the attested path, it shows what the protocol's hashing and signature cost by themselves.
 */
function cryptoFloor(enclave: Enclave, bodies: readonly ResultBody[]): () => Promise<void> {
  const frame = tagFrame(TAGS.result);
  const texts = bodies.map((b) => {
    const text = canonicalBytes(b);
    const out = new Uint8Array(frame.length + text.length);
    out.set(frame, 0);
    out.set(text, frame.length);
    return out;
  });
  const structs = bodies.map(() => new Uint8Array(9 * 32));
  return async () => {
    const leaves = texts.map((t, i) => {
      const struct = structs[i] as Uint8Array;
      struct.set(sha256Digest(t), 128);
      return leafHash(keccak_256(struct));
    });
    const { root } = treeWithProofs(leaves);
    await enclave.signJws(canonicalBytes({ root: toHex(root), size: leaves.length, typ: 'props-result-batch', v: 1 }), {
      typ: 'props-result-batch+jws',
    });
  };
}

export async function runAttestedBench(): Promise<Row[]> {
  const policy = loadPipelinePolicy();
  const credit = await loadModel({
    path: DEFAULT_MODEL_PATH,
    expectedHash: policy.modelHash,
    executionProvider: 'cpu',
  });
  const enclave = await bootEnclave({ platform: await createSimPlatform(), model: credit, pipelinePolicy: policy });
  const statements = generateBorrowers('bench-attested', 64).map((b) => b.statement);
  const inputs = statements.map((statement, i): Input => {
    const id = `0x${(i + 1).toString(16).padStart(64, '0')}` as const;
    return {
      statement,
      commitment: commitInputs(statement),
      features: computeFeatures(statement),
      request: { requestId: id, nonce: id, consentRef: id },
    };
  });
  const featureRows = statements.map((s) => computeFeatures(s));
  const log: Uint8Array[] = [];
  const out: Row[] = [];
  const row = (model: string, params: number, mode: Row['mode'], bare: Timing, att: Timing): Row => ({
    model,
    params,
    batch: bare.batch,
    mode,
    bareMs: bare.p50Ms,
    attestedMs: att.p50Ms,
    ratio: att.p50Ms / bare.p50Ms,
    addedMs: att.p50Ms - bare.p50Ms,
  });

  // Bare and the three attested modes run interleaved, round by round (timeInterleaved), so their ratios are
  // measured under the same conditions of a shared machine.
  const creditScore = async (rows: number[][]): Promise<ResultOutput[]> =>
    (await credit.scoreBatch(rows)).map((s) => decide(s, 600));
  for (const batch of [1, 64]) {
    const feeds = { [INPUT_NAME]: inputTensor(featureRows, batch) };
    const [bare, ...att] = await timeInterleaved(batch, [
      () => credit.session.run(feeds),
      ...MODES.map((mode) => () => attestedBatch(mode, enclave, inputs.slice(0, batch), creditScore, log)),
    ]);
    MODES.forEach((mode, i) => out.push(row('credit-v1 (logistic)', 0, mode, bare as Timing, att[i] as Timing)));
  }

  // Two generated MLPs, 10.7M and 42.5M parameters: the attestation work per row is the same, inference grows with
  // the model, so the ratio shows the overhead shrinking with model size.
  for (const hidden of [2304, 4608]) {
    const mlp = await syntheticMlpFile({ hidden });
    const session = await InferenceSession.create(mlp.path, { executionProviders: ['cpu'] });
    const mlpScore = async (rows: number[][]): Promise<ResultOutput[]> => {
      const r = await session.run({ [INPUT_NAME]: inputTensor(rows, rows.length) });
      const first = Object.values(r)[0]?.data as Float32Array;
      return rows.map(
        (_, i) =>
          ({
            decision: 'approve',
            reasonCodes: [],
            score: Math.min(1000, Math.max(0, Math.round(Math.abs(first[i] ?? 0) * 1000) % 1001)),
            threshold: 0,
          }) as ResultOutput,
      );
    };
    for (const batch of [1, 64]) {
      const feeds = { [INPUT_NAME]: inputTensor(featureRows, batch) };
      // The same inference, then only the protocol's cryptography for the batch's statements (cryptoFloor).
      const sample = await enclave.signResultBatch(
        inputs.slice(0, batch).map((x) => ({
          request: x.request,
          output: { decision: 'approve', reasonCodes: [], score: 500, threshold: 0 },
          inputCommitment: x.commitment,
        })),
      );
      const floor = cryptoFloor(
        enclave,
        sample.results.map((r) => r.body),
      );
      const [bare, floorTiming, ...att] = await timeInterleaved(
        batch,
        [
          () => session.run(feeds),
          async () => {
            await session.run(feeds);
            await floor();
          },
          ...MODES.map((mode) => () => attestedBatch(mode, enclave, inputs.slice(0, batch), mlpScore, log)),
        ],
        { warmup: 5, budgetMs: batch === 1 ? 3000 : 8000 },
      );
      MODES.forEach((mode, i) => out.push(row('synthetic MLP', mlp.params, mode, bare as Timing, att[i] as Timing)));
      out.push(row('synthetic MLP', mlp.params, 'hashes+head only', bare as Timing, floorTiming as Timing));
    }
    await session.release();
  }
  await credit.release();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runAttestedBench();
  if (wantsJson()) process.stdout.write(`${JSON.stringify({ bench: 'attested', rows })}\n`);
  else {
    process.stdout.write('\nAttested scoring path vs bare onnxruntime inference (p50, CPU)\n');
    process.stdout.write(
      `${'model'.padEnd(24)}${'params'.padStart(12)}${'batch'.padStart(7)}${'signing'.padStart(18)}${'bare ms'.padStart(10)}${'attested ms'.padStart(13)}${'ratio'.padStart(9)}${'added ms'.padStart(10)}\n`,
    );
    for (const r of rows) {
      process.stdout.write(
        `${r.model.padEnd(24)}${String(r.params || 'n/a').padStart(12)}${String(r.batch).padStart(7)}${r.mode.padStart(18)}${r.bareMs.toFixed(3).padStart(10)}${r.attestedMs.toFixed(3).padStart(13)}${`${r.ratio.toFixed(3)}×`.padStart(9)}${r.addedMs.toFixed(3).padStart(10)}\n`,
      );
    }
  }
}
