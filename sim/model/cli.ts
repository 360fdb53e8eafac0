// `props model`: info about the committed model (hash, features, held-out AUC, provider), retraining, and scoring a
// statement file. In sim/ because `train` draws its data from the simulator; `info` and `score` use only the
// enclave model surface.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Command } from '../../protocol/index.ts';
import { findPropsError, parseWith, PropsError, statement } from '../../protocol/index.ts';
import {
  computeFeatures,
  decide,
  DEFAULT_MODEL_CARD_PATH,
  DEFAULT_MODEL_PATH,
  FEATURE_NAMES,
  loadModel,
  readModelCard,
  type ExecutionProvider,
} from '../../enclave/model/index.ts';
import { trainCreditModel, writeModelFiles } from './train.ts';

const USAGE = `usage:
  props model info [--json] [--model FILE] [--card FILE] [--expected-hash 0x…] [--provider cpu|cuda] [--allow-cpu-fallback]
  props model train [--json] [--out DIR]
  props model score --statement FILE [--threshold N] [--json] [--model FILE] [--provider cpu|cuda] [--allow-cpu-fallback]`;

function usage(msg?: string): number {
  if (msg) process.stderr.write(`props model: ${msg}\n`);
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

function provider(v: string | undefined): ExecutionProvider | undefined {
  if (v === undefined || v === 'cpu') return 'cpu';
  if (v === 'cuda') return 'cuda';
  return undefined;
}

/** Hash mismatches are verification failures (exit 1); other coded errors are input problems (exit 2). */
function failed(e: unknown): number {
  const pe = findPropsError(e);
  if (!pe) throw e;
  process.stderr.write(`props model: ${pe.code}: ${pe.message}\n`);
  return pe.code === 'ERR_MODEL_HASH_MISMATCH' ? 1 : 2;
}

const shared = {
  json: { type: 'boolean', default: false },
  model: { type: 'string' },
  provider: { type: 'string' },
  'allow-cpu-fallback': { type: 'boolean', default: false },
} as const;

async function info(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { ...shared, card: { type: 'string' }, 'expected-hash': { type: 'string' } },
  });
  const ep = provider(values.provider);
  if (!ep) return usage('--provider must be cpu or cuda');
  try {
    const model = await loadModel({
      path: values.model ?? DEFAULT_MODEL_PATH,
      executionProvider: ep,
      allowCpuFallback: values['allow-cpu-fallback'],
      ...(values['expected-hash'] !== undefined ? { expectedHash: values['expected-hash'] } : {}),
    });
    await model.release();
    const card = await readModelCard(
      values.card ?? (values.model === undefined ? DEFAULT_MODEL_CARD_PATH : values.model.replace(/\.onnx$/, '.json')),
    );
    // The card's metrics describe one file; never attribute them to another.
    if (card.modelHash !== model.modelHash)
      throw new PropsError('ERR_MODEL_HASH_MISMATCH', { detail: 'model card describes another file' });
    const out = {
      modelHash: model.modelHash,
      format: 'onnx' as const,
      params: card.params,
      features: [...FEATURE_NAMES],
      auc: card.heldOut.auc,
      executionProvider: model.executionProvider,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      process.stdout.write(
        `${[
          `model           ${card.name} (${out.format}, opset ${card.opset})`,
          `modelHash       ${out.modelHash}`,
          `params          ${out.params}`,
          `features        ${out.features.join(', ')}`,
          `held-out AUC    ${out.auc.toFixed(4)} (${card.heldOut.count} borrowers, seed ${card.heldOut.seed})`,
          `provider        ${out.executionProvider}`,
        ].join('\n')}\n`,
      );
    }
    return 0;
  } catch (e) {
    return failed(e);
  }
}

async function train(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { json: { type: 'boolean', default: false }, out: { type: 'string' } },
  });
  const m = trainCreditModel();
  const { onnxPath, cardPath } = await writeModelFiles(m, values.out);
  const out = {
    modelHash: m.card.modelHash,
    auc: m.card.heldOut.auc,
    params: m.card.params,
    onnx: onnxPath,
    card: cardPath,
  };
  process.stdout.write(
    values.json
      ? `${JSON.stringify(out)}\n`
      : `wrote ${onnxPath}\n      ${cardPath}\nmodelHash ${out.modelHash}\nheld-out AUC ${out.auc.toFixed(4)}\n`,
  );
  return 0;
}

async function score(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { ...shared, statement: { type: 'string' }, threshold: { type: 'string', default: '700' } },
  });
  const ep = provider(values.provider);
  if (!ep) return usage('--provider must be cpu or cuda');
  if (!values.statement) return usage('--statement is required');
  if (!/^\d{1,4}$/.test(values.threshold)) return usage('--threshold must be an integer 0..1000');
  try {
    let raw: string;
    try {
      raw = await readFile(values.statement, 'utf8');
    } catch (e) {
      throw new PropsError('ERR_FILE_UNREADABLE', { detail: 'statement', cause: e });
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      throw new PropsError('ERR_JSON_MALFORMED', { detail: 'statement', cause: e });
    }
    const features = computeFeatures(parseWith(statement, json, 'ERR_INPUT_MALFORMED'));
    const model = await loadModel({
      path: values.model ?? DEFAULT_MODEL_PATH,
      executionProvider: ep,
      allowCpuFallback: values['allow-cpu-fallback'],
    });
    const [s] = await model.scoreBatch([features]);
    await model.release();
    if (!s) throw new Error('model: empty result');
    const out = {
      ...decide(s, Number(values.threshold)),
      probabilityOfDefault: s.probabilityOfDefault,
      modelHash: model.modelHash,
      executionProvider: model.executionProvider,
    };
    process.stdout.write(
      values.json
        ? `${JSON.stringify(out)}\n`
        : `${out.decision} (score ${out.score}, threshold ${out.threshold}) reasons: ${out.reasonCodes.join(', ') || 'none'}\n`,
    );
    return 0;
  } catch (e) {
    return failed(e);
  }
}

export const modelCommand: Command = {
  summary: 'credit model: info, train, score',
  usage: USAGE,
  // `--help` and options parseArgs refuses are answered by the dispatcher (cli/main.ts), with this usage.
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'info') return await info(rest);
    if (sub === 'train') return await train(rest);
    if (sub === 'score') return await score(rest);
    return usage(sub ? `unknown subcommand "${sub}"` : undefined);
  },
};
