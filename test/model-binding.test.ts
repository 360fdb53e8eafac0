// The model is bound by hash: the pipeline policy pins the committed ONNX file, the enclave refuses any other, and
// every result names the model hash and execution provider the verifier checks.
import { describe, expect, it } from 'vitest';
import { copyFileSync, appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bootEnclave,
  createSimPlatform,
  DEFAULT_MODEL_PATH,
  hashModelFile,
  loadModel,
  loadPipelinePolicy,
  assessStatements,
  commitInputs,
  SAMPLE_STATEMENT,
} from '../enclave/index.ts';
import { verifyResult } from '../verifier/index.ts';
import { NOW, fixedClock, hex32, seededRandom, simPolicy } from '../testing/enclave.ts';

describe('model binding', () => {
  it('the pipeline policy pins exactly the committed model file', () => {
    expect(loadPipelinePolicy().modelHash).toBe(hashModelFile(DEFAULT_MODEL_PATH));
  });

  it('model swapped: a tampered model file stops the enclave at boot (ERR_MODEL_HASH_MISMATCH)', async () => {
    const p = join(mkdtempSync(join(tmpdir(), 'props-m-')), 'credit.onnx');
    copyFileSync(DEFAULT_MODEL_PATH, p);
    appendFileSync(p, 'x');
    const platform = await createSimPlatform({ random: seededRandom('m'), clock: fixedClock() });
    await expect(bootEnclave({ platform, modelPath: p, codeHash: hex32('c0') })).rejects.toMatchObject({
      code: 'ERR_MODEL_HASH_MISMATCH',
    });
    await expect(
      loadModel({ path: p, expectedHash: loadPipelinePolicy().modelHash, executionProvider: 'cpu' }),
    ).rejects.toMatchObject({ code: 'ERR_MODEL_HASH_MISMATCH' });
  });

  it('results carry the model hash, provider and reason codes; a policy pinning the model accepts them', async () => {
    const model = await loadModel({
      path: DEFAULT_MODEL_PATH,
      expectedHash: loadPipelinePolicy().modelHash,
      executionProvider: 'cpu',
    });
    const random = seededRandom('m2');
    const platform = await createSimPlatform({ random, clock: fixedClock() });
    const enclave = await bootEnclave({ platform, model, random, clock: fixedClock(), codeHash: hex32('c0') });
    expect(enclave.manifest.executionProvider).toBe('cpu');
    const [a] = await assessStatements(model, [SAMPLE_STATEMENT], 600);
    const req = { requestId: hex32('01'), nonce: hex32('02'), consentRef: hex32('03') };
    const att = await enclave.signResult(req, a!.output, commitInputs(SAMPLE_STATEMENT));
    const policy = simPolicy((p) => (p.manifest.modelHashes = [model.modelHash]));
    const r = await verifyResult(att, {
      evidence: enclave.evidence,
      evidenceDigest: enclave.evidenceDigest,
      manifest: enclave.manifest,
      policy,
      now: NOW,
      expected: req,
    });
    expect(r.ok).toBe(true);
    expect(r.body?.modelHash).toBe(model.modelHash);
    expect(r.body?.executionProvider).toBe('cpu');
    expect(r.body?.output.reasonCodes.length).toBeGreaterThan(0);
    await model.release();
  });
});
