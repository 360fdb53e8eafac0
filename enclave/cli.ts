// `props attest --out FILE`: boots an enclave in simulated mode and writes an audit bundle with a signed
// demonstration result over a fixed sample input, and its inclusion proof in a log of that one result. `props attest verify …` checks raw platform evidence.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseJsonText, toHex, type Hex } from '../protocol/index.ts';
import type { Command } from '../protocol/index.ts';
import { bootEnclave } from './boot.ts';
import { buildAuditBundle, logBundleResults } from './bundle.ts';
import { commitInputs, SAMPLE_STATEMENT } from './demo.ts';
import { assessStatements, DEFAULT_MODEL_PATH, loadModel } from './model/index.ts';
import { loadPipelinePolicy } from './pipeline-policy.ts';
import { systemRandom } from './keys.ts';
import { createSimPlatform, simRootFromJwk, simRootFingerprint } from './platforms/sim.ts';

const DEMO_THRESHOLD = 600;

const USAGE = `usage: props attest --out FILE [--model FILE] [--sim-root JWK_FILE] [--chain-scheme p256|secp256k1] [--json]
       props attest verify --platform P --evidence FILE … (see props attest verify --help)`;

export const attestCommand: Command = {
  summary: 'boot a simulated enclave and write an audit bundle; `attest verify` checks platform evidence',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        out: { type: 'string' },
        model: { type: 'string' },
        'sim-root': { type: 'string' },
        'chain-scheme': { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    const scheme = values['chain-scheme'] ?? 'p256';
    if (!values.out || (scheme !== 'p256' && scheme !== 'secp256k1')) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    const root = values['sim-root']
      ? simRootFromJwk(parseJsonText(readFileSync(values['sim-root'], 'utf8'), 16_384))
      : undefined;
    const platform = await createSimPlatform(root ? { root } : {});
    const policy = loadPipelinePolicy();
    // The model must be the one the pipeline policy pins: a tampered or swapped file stops here (ERR_MODEL_HASH_MISMATCH).
    const model = await loadModel({
      path: values.model ?? DEFAULT_MODEL_PATH,
      expectedHash: policy.modelHash,
      executionProvider: 'cpu',
    });
    const enclave = await bootEnclave({ platform, model, pipelinePolicy: policy, chainScheme: scheme });
    const request = {
      requestId: toHex(systemRandom(32)) as Hex,
      nonce: toHex(systemRandom(32)) as Hex,
      consentRef: commitInputs({ demo: 'consent' }),
    };
    const [assessment] = await assessStatements(model, [SAMPLE_STATEMENT], DEMO_THRESHOLD);
    if (!assessment) throw new Error('no assessment');
    const attestation = await enclave.signResult(request, assessment.output, commitInputs(SAMPLE_STATEMENT));
    await model.release();
    const createdAt = new Date();
    // No scoring service, so no service log: the enclave logs this one result and signs the head (props verify
    // requires every result's inclusion proof).
    const bundle = await logBundleResults(
      enclave,
      buildAuditBundle(
        enclave,
        [{ request: { requestId: request.requestId, nonce: request.nonce }, attestation }],
        createdAt,
      ),
      createdAt,
    );
    writeFileSync(values.out, `${JSON.stringify(bundle, null, 2)}\n`);
    const summary = {
      out: values.out,
      platform: 'sim',
      simulated: true,
      manifestHash: enclave.manifestHash,
      pipelineId: enclave.pipelineId,
      codeHash: enclave.manifest.codeHash,
      modelHash: enclave.manifest.modelHash,
      executionProvider: enclave.manifest.executionProvider,
      demoScore: assessment.output.score,
      demoDecision: assessment.output.decision,
      reasonCodes: assessment.output.reasonCodes.join(',') || '(none)',
      simRootFingerprint: simRootFingerprint(platform.root.publicKey),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stdout.write(
        `SIMULATED enclave (platform "sim": no hardware guarantees)\n` +
          Object.entries(summary)
            .map(([k, v]) => `  ${k.padEnd(20)} ${String(v)}`)
            .join('\n') +
          `\nwrote audit bundle to ${values.out}\n`,
      );
    }
    return 0;
  },
};
