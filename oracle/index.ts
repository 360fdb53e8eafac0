// oracle: the data owner's side — records with proof of origin, checking the enclave before sending, encrypting
// submissions to its attested key, receipts, consents.
export {
  checkEnclave,
  assertChecked,
  type CheckedEnclave,
  type CheckEnclaveParameters,
  type VerifyEvidence,
  type VerifyEvidenceResult,
} from './check.ts';
export {
  encryptSubmission,
  delegateFetch,
  type EncryptSubmissionParameters,
  type EncryptSubmissionReturnType,
  type OracleDeps,
} from './encrypt.ts';
export { submit, verifyReceipt, sendToEnclave, type FetchLike, type SendToEnclaveParameters } from './submit.ts';
export { grantConsent, type GrantConsentParameters } from './consent.ts';
export { generateOwnerKey, loadOwnerKey, type OwnerKey, type OwnerKeyFile } from './keys.ts';
export { fetchSignedStatement, type FetchSignedStatementParameters } from './source.ts';
