// verifier: every "is this authentic?" check and its policy. Imports only protocol, so an auditor can run it alone.
export { verifyEvidence, type EvidenceReport, type VerifyEvidenceOptions } from './evidence.ts';
export { verifyResult, type NonceStore, type ResultReport, type VerifyResultOptions } from './result.ts';
export { verifyBundle, type BundleReport, type VerifyBundleOptions } from './bundle.ts';
export { buildEar, signEar, type Ear, type EarStatus, type TrustVector } from './ear.ts';
export { parsePolicy, parsePolicyText, policyHash, checkPinned, type Policy } from './policy.ts';
export { loadDefaultPolicy } from './default-policy.ts';
export {
  platformVerifiers,
  type PlatformClaims,
  type PlatformVerifier,
  type VerifyContext,
} from './platforms/index.ts';
export type { Check } from './checks.ts';
export * from './provenance/index.ts';
export { verifyConsent } from './consent.ts';
export { parseNow, NOW_FORMATS } from './now.ts';
export {
  resultLeafHash,
  resultBodyOfJws,
  verifySignedTreeHead,
  verifyLogInclusion,
  verifyLogConsistency,
} from './log.ts';
// The tree-head format lives in protocol; re-exported so the verifier's public surface keeps it.
export { treeHeadDigest, signedTreeHead, type SignedTreeHead, type TreeHeadBody } from '../protocol/index.ts';
