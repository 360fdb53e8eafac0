// enclave: the runtime inside the protected boundary — boot, keys, attestation platforms (collect side), signing.
export {
  bootEnclave,
  hashModelFile,
  REPO_ROOT,
  type BootOptions,
  type Enclave,
  type ScoringRequest,
  type BatchItem,
} from './boot.ts';
export { generateEnclaveKeys, systemRandom, type ChainSigner, type EnclaveKeyMaterial, type Random } from './keys.ts';
export { computeCodeHash, codeFiles } from './code-hash.ts';
export {
  createSimPlatform,
  generateSimRoot,
  simRootFromJwk,
  simRootFingerprint,
  type SimRoot,
} from './platforms/sim.ts';
export type { AttestationPlatform, CollectInput, Collected } from './platforms/types.ts';
export { loadPipelinePolicy, parsePipelinePolicy, pipelinePolicyHash, type PipelinePolicy } from './pipeline-policy.ts';
export { buildAuditBundle, logBundleResults } from './bundle.ts';
export { SAMPLE_STATEMENT, commitInputs, DEMO_OUTPUT } from './demo.ts';
export * from './model/index.ts';
