// The enclave layer: what the enclave refuses at boot, before it holds any key.
import { appendFileSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '../../protocol/index.ts';
import { DEFAULT_MODEL_PATH, loadModel } from '../../enclave/index.ts';
import { rejection, type AttackContext } from './context.ts';
import { bindScenarios, type Attempt, type Scenario, type ScenarioOn } from './types.ts';

async function modelSwapped({ w }: AttackContext): Promise<Attempt> {
  const p = join(mkdtempSync(join(tmpdir(), 'props-attack-')), 'credit.onnx');
  copyFileSync(DEFAULT_MODEL_PATH, p);
  appendFileSync(p, utf8('backdoor'));
  return {
    code: await rejection(() =>
      loadModel({ path: p, expectedHash: w.pipelinePolicy.modelHash, executionProvider: 'cpu' }),
    ),
  };
}

const ENCLAVE: ScenarioOn<AttackContext>[] = [
  {
    name: 'model swapped (tampered ONNX file at boot)',
    layer: 'enclave',
    expected: 'ERR_MODEL_HASH_MISMATCH',
    run: modelSwapped,
  },
];

/** The enclave catalogue, in the order it runs. */
export const enclaveScenarios = (c: AttackContext): Scenario[] => bindScenarios(ENCLAVE, c);
