// The enclave's own operating policy (what it accepts and how long results live). Its hash is the manifest's
// policyHash, so a verifier pins exactly the rules the enclave ran under.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  assertVersion,
  digestJson,
  eip712Domain,
  hex32,
  parseJsonText,
  parseWith,
  TAGS,
  type Hex,
} from '../protocol/index.ts';

export const pipelinePolicySchema = z.strictObject({
  version: z.literal(1),
  id: z.string().min(1).max(128),
  /** SHA-256 of the model file this pipeline runs: a different file refuses to boot (ERR_MODEL_HASH_MISMATCH). */
  modelHash: hex32,
  resultTtlSeconds: z
    .number()
    .int()
    .positive()
    .max(365 * 24 * 3600),
  eip712: eip712Domain,
});
export type PipelinePolicy = z.infer<typeof pipelinePolicySchema>;

export function parsePipelinePolicy(input: unknown): PipelinePolicy {
  assertVersion(input, 'version', [1]);
  return parseWith(pipelinePolicySchema, input, 'ERR_POLICY_MALFORMED');
}

export const DEFAULT_PIPELINE_POLICY_PATH = new URL('./pipeline-policy.json', import.meta.url);

export function loadPipelinePolicy(path: string | URL = DEFAULT_PIPELINE_POLICY_PATH): PipelinePolicy {
  return parsePipelinePolicy(parseJsonText(readFileSync(path, 'utf8'), 64 * 1024));
}

export const pipelinePolicyHash = (p: PipelinePolicy): Hex => digestJson(TAGS.policy, p);
