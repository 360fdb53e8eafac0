// Encrypting to the checked enclave: a JWE (ECDH-ES[+A256KW], A256GCM) to its attested encryption key, whose
// protected header names that key (`kid`), the evidence the owner checked and a fresh id — so the enclave can refuse a
// submission meant for another enclave, and a replay, before it decrypts anything.
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import {
  DELEGATION_JWE_TYP,
  JWE_CONTENT_ALG,
  JWE_HEADER,
  ORACLE_VERSION,
  SUBMISSION_JWE_TYP,
  canonicalBytes,
  fetchDelegation,
  inputCommitment,
  parseSubmission,
  parseWith,
  toHex,
  type FetchDelegation,
  type Hex,
  type ProvenanceProof,
  type PublicJwk,
  type Submission,
} from '../protocol/index.ts';
import { assertChecked, type CheckedEnclave } from './check.ts';

export type OracleDeps = { now: () => Date; random?: (n: number) => Uint8Array };

const rand = (deps: OracleDeps, n: number): Uint8Array =>
  (deps.random ?? ((k) => crypto.getRandomValues(new Uint8Array(k))))(n);

async function encryptTo(enclave: CheckedEnclave, typ: string, id: Hex, plaintext: Uint8Array): Promise<string> {
  const k = enclave.encryptionKey;
  const alg = k.alg === 'ECDH-ES' ? 'ECDH-ES' : 'ECDH-ES+A256KW';
  const key = await importJWK({ kty: k.kty, crv: k.crv, x: k.x, y: k.y } as JWK, alg);
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({
      alg,
      enc: JWE_CONTENT_ALG,
      typ,
      kid: k.kid,
      [JWE_HEADER.evidenceDigest]: enclave.evidenceDigest,
      [JWE_HEADER.id]: id,
    })
    .encrypt(key);
}

export type EncryptSubmissionParameters = { proofs: readonly ProvenanceProof[]; owner: PublicJwk };
export type EncryptSubmissionReturnType = {
  jwe: string;
  submissionId: Hex;
  inputCommitment: Hex;
  submission: Submission;
};

/** Builds and encrypts a submission; the records travel only inside the proofs, only inside the JWE. */
export async function encryptSubmission(
  input: EncryptSubmissionParameters,
  enclave: CheckedEnclave,
  deps: OracleDeps,
): Promise<EncryptSubmissionReturnType> {
  assertChecked(enclave);
  const submissionId = toHex(rand(deps, 32));
  // Parse our own output too: a submission the enclave would refuse is refused here, before it is sent.
  const submission = parseSubmission({
    version: ORACLE_VERSION,
    typ: 'props-submission',
    submissionId,
    evidenceDigest: enclave.evidenceDigest,
    createdAt: deps.now().toISOString(),
    owner: input.owner,
    proofs: input.proofs,
  });
  const jwe = await encryptTo(enclave, SUBMISSION_JWE_TYP, submissionId, canonicalBytes(submission));
  return { jwe, submissionId, inputCommitment: inputCommitment(submission.proofs), submission };
}

/** Delegates an attested fetch: the bearer token goes to the enclave encrypted, never to the host in the clear. */
export async function delegateFetch(
  input: { url: string; token: string },
  enclave: CheckedEnclave,
  deps: OracleDeps,
): Promise<{ jwe: string; delegationId: Hex }> {
  assertChecked(enclave);
  const delegationId = toHex(rand(deps, 32));
  const d: FetchDelegation = parseWith(
    fetchDelegation,
    {
      version: ORACLE_VERSION,
      typ: 'props-fetch-delegation',
      delegationId,
      evidenceDigest: enclave.evidenceDigest,
      ...input,
    },
    'ERR_INPUT_MALFORMED',
  );
  return { jwe: await encryptTo(enclave, DELEGATION_JWE_TYP, delegationId, canonicalBytes(d)), delegationId };
}
