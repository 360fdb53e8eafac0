// Sending to the enclave and keeping its word: POST the JWE through an injected fetch, then verify the receipt with
// the enclave's attested JWS key and check it names our submission, the evidence we checked and our input commitment.
import { compactVerify, importJWK, type JWK } from 'jose';
import {
  decodeProtectedHeaderStrict,
  jsonOfUtf8,
  PropsError,
  RECEIPT_JWS_TYP,
  isErrorCode,
  parseReceipt,
  type Hex,
  type ProvenanceProof,
  type PublicJwk,
  type Receipt,
} from '../protocol/index.ts';
import { checkEnclave, type CheckEnclaveParameters, type CheckedEnclave } from './check.ts';
import { encryptSubmission, type OracleDeps } from './encrypt.ts';

export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string },
) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

/** POSTs a submission JWE; answers the enclave's receipt JWS. Refusals carry the enclave's code when it sent one. */
export async function submit(jwe: string, opts: { endpoint: string; fetch: FetchLike }): Promise<string> {
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    // The service's POST /v1/submissions takes {"jwe": …} and answers {"receipt": …} (errors: RFC 9457 with `code`).
    res = await opts.fetch(opts.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jwe }),
    });
  } catch {
    throw new PropsError('ERR_ORACLE_SUBMIT_FAILED', { detail: 'network' });
  }
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as {
    receipt?: unknown;
    code?: unknown;
    error?: { code?: unknown };
  };
  if (res.status < 200 || res.status > 299 || typeof b.receipt !== 'string') {
    const code = b.code ?? b.error?.code;
    throw new PropsError('ERR_ORACLE_SUBMIT_FAILED', { detail: isErrorCode(code) ? code : `HTTP ${res.status}` });
  }
  return b.receipt;
}

export async function verifyReceipt(
  jws: unknown,
  expected: { jwsKey: PublicJwk; submissionId: Hex; evidenceDigest: Hex; inputCommitment: Hex },
): Promise<Receipt> {
  if (typeof jws !== 'string' || jws.length > 16_384) throw new PropsError('ERR_RECEIPT_MALFORMED');
  const k = expected.jwsKey;
  const alg = k.alg === 'EdDSA' ? 'EdDSA' : 'ES256';
  try {
    decodeProtectedHeaderStrict(jws);
  } catch (cause) {
    throw new PropsError('ERR_RECEIPT_MALFORMED', { detail: 'protected header', cause });
  }
  let payload: Uint8Array;
  try {
    const key = await importJWK({ kty: k.kty, crv: k.crv, x: k.x, ...(k.y ? { y: k.y } : {}) } as JWK, alg);
    const v = await compactVerify(jws, key, { algorithms: [alg] });
    if (v.protectedHeader.typ !== RECEIPT_JWS_TYP) throw new Error('typ');
    payload = v.payload;
  } catch {
    throw new PropsError('ERR_RECEIPT_SIGNATURE_INVALID');
  }
  let parsed: unknown;
  try {
    parsed = jsonOfUtf8(payload, jws.length);
  } catch (cause) {
    throw new PropsError('ERR_RECEIPT_MALFORMED', { cause });
  }
  const r = parseReceipt(parsed);
  if (r.submissionId !== expected.submissionId)
    throw new PropsError('ERR_RECEIPT_MISMATCH', { detail: 'submissionId' });
  if (r.evidenceDigest !== expected.evidenceDigest)
    throw new PropsError('ERR_RECEIPT_MISMATCH', { detail: 'evidenceDigest' });
  if (r.inputCommitment !== expected.inputCommitment)
    throw new PropsError('ERR_RECEIPT_MISMATCH', { detail: 'inputCommitment' });
  return r;
}

export type SendToEnclaveParameters = CheckEnclaveParameters & {
  proofs: readonly ProvenanceProof[];
  owner: PublicJwk;
  endpoint: string;
  fetch: FetchLike;
};

/**
 * The whole data-owner path: check the enclave (refusing before anything is encrypted), encrypt to its attested key,
 * submit, verify the receipt. `encrypt` is injectable so tests can prove it is never reached for a failing enclave.
 */
export async function sendToEnclave(
  p: SendToEnclaveParameters,
  deps: OracleDeps & { encrypt?: typeof encryptSubmission },
): Promise<{ enclave: CheckedEnclave; submissionId: Hex; inputCommitment: Hex; receipt: Receipt; receiptJws: string }> {
  const enclave = await checkEnclave(p);
  const encrypt = deps.encrypt ?? encryptSubmission;
  const { jwe, submissionId, inputCommitment } = await encrypt({ proofs: p.proofs, owner: p.owner }, enclave, deps);
  const receiptJws = await submit(jwe, { endpoint: p.endpoint, fetch: p.fetch });
  const receipt = await verifyReceipt(receiptJws, {
    jwsKey: enclave.jwsKey,
    submissionId,
    evidenceDigest: enclave.evidenceDigest,
    inputCommitment,
  });
  return { enclave, submissionId, inputCommitment, receipt, receiptJws };
}
