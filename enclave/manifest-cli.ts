// `props manifest`: what this checkout would run as — code hash (see README "The code hash"), model hash, policy
// hash, pipelineId — computed from files alone, so an auditor can compare a build with what the registry holds.
import { parseArgs } from 'node:util';
import type { Command } from '../protocol/index.ts';
import { manifestHash, parseManifest, pipelineId } from '../protocol/index.ts';
import { REPO_ROOT, hashModelFile } from './boot.ts';
import { computeCodeHash } from './code-hash.ts';
import { DEFAULT_MODEL_PATH } from './model/index.ts';
import { loadPipelinePolicy, pipelinePolicyHash } from './pipeline-policy.ts';

export const manifestCommand: Command = {
  summary: 'print the manifest (code, model, policy hashes, pipelineId) this checkout would run as',
  usage: 'usage: props manifest [--platform P] [--root DIR] [--model FILE] [--files] [--json]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        json: { type: 'boolean' },
        root: { type: 'string' },
        model: { type: 'string' },
        platform: { type: 'string', default: 'sim' },
        files: { type: 'boolean' },
      },
    });
    const policy = loadPipelinePolicy();
    const { codeHash, files } = computeCodeHash(values.root ?? REPO_ROOT);
    const modelHash = hashModelFile(values.model ?? DEFAULT_MODEL_PATH);
    const manifest = parseManifest({
      version: 1,
      platform: values.platform,
      codeHash,
      modelHash,
      policyHash: pipelinePolicyHash(policy),
      executionProvider: 'cpu',
      runtime: { node: process.versions.node, props: '0.1.0' },
    });
    const out = {
      manifest,
      manifestHash: manifestHash(manifest),
      pipelineId: pipelineId(manifest),
      modelPinnedByPolicy: policy.modelHash === modelHash,
      ...(values.files ? { files } : { fileCount: files.length }),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      for (const [k, v] of Object.entries({
        ...manifest,
        runtime: JSON.stringify(manifest.runtime),
        manifestHash: out.manifestHash,
        pipelineId: out.pipelineId,
        files: files.length,
      })) {
        process.stdout.write(`${k.padEnd(18)} ${String(v)}\n`);
      }
      if (!out.modelPinnedByPolicy)
        process.stdout.write(
          'WARNING: the model file is not the one enclave/pipeline-policy.json pins; the enclave would refuse to boot\n',
        );
    }
    return out.modelPinnedByPolicy ? 0 : 1;
  },
};
