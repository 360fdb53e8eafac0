// verifyResult: a result attestation is authentic when its JWS verifies under the evidence-bound JWS key and its
// EIP-712 signature under the evidence-bound on-chain key; it is acceptable when it names this evidence and manifest,
// answers the caller's request and nonce, is fresh, and its algorithm and domain are allowed by policy.
import { compactVerify, importJWK, type JWK } from 'jose';
import { recoverAddress } from 'viem';
import {
  batchRootOf,
  fromHex,
  isBatchedResult,
  parseBatchedResult,
  decodeProtectedHeaderStrict,
  parseJsonText,
  parseResultBatchHead,
  parseResultAttestation,
  parseResultBody,
  pipelineId,
  PropsError,
  resultDigest,
  toHex,
  type BatchedResult,
  type Evidence,
  type Hex,
  type Manifest,
  type ResultAttestation,
  type ResultBody,
} from '../protocol/index.ts';
import { type fail, pass, runCheck, type Check } from './checks.ts';
import { verificationTime } from './now.ts';
import { failFrom } from './evidence.ts';
import type { Policy } from './policy.ts';
import { importP256, isLowS, verifyP256 } from './webcrypto.ts';

export type NonceStore = { has(nonce: string): boolean | Promise<boolean>; add(nonce: string): void | Promise<void> };

export type VerifyResultOptions = {
  /** Evidence already verified (verifyEvidence) and its manifest: the keys and hashes the result must name. */
  evidence: Evidence;
  evidenceDigest: Hex;
  manifest: Manifest;
  policy: Policy;
  now: Date;
  /** What the caller asked for; a result for another request or nonce is refused. */
  expected?: { requestId: string; nonce: string };
  /** Nonces already accepted by this caller; a second result with the same nonce is a replay. */
  nonceStore?: NonceStore;
};

export type ResultReport = {
  ok: boolean;
  checks: Check[];
  body?: ResultBody;
  attestation?: ResultAttestation;
  batched?: BatchedResult;
};

const JOSE_CODES: Record<string, Parameters<typeof fail>[1]> = {
  ERR_JOSE_ALG_NOT_ALLOWED: 'ERR_RESULT_ALG_NOT_ALLOWED',
  ERR_JOSE_NOT_SUPPORTED: 'ERR_RESULT_ALG_NOT_ALLOWED',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'ERR_RESULT_SIGNATURE_INVALID',
  ERR_JWS_INVALID: 'ERR_RESULT_MALFORMED',
};

export async function verifyResult(input: unknown, opts: VerifyResultOptions): Promise<ResultReport> {
  verificationTime(opts.now);
  const checks: Check[] = [];
  const report = (extra: Partial<ResultReport> = {}): ResultReport => ({
    ok: checks.length > 0 && checks.every((c) => c.ok),
    checks,
    ...extra,
  });
  const keys = opts.evidence.keys;

  if (isBatchedResult(input)) return verifyBatched(input, opts, checks, report);

  let att: ResultAttestation;
  try {
    att = parseResultAttestation(input);
  } catch (e) {
    checks.push(failFrom('result.format', e, 'ERR_RESULT_MALFORMED'));
    return report();
  }

  // JWS: algorithm allow-list and key binding are decided from the header before any key is used.
  let body: ResultBody;
  try {
    const payload = await verifyBoundJws(att.jws, opts, 'props-result+jws');
    body = parseResultBody(parseJsonText(new TextDecoder().decode(payload), 16_384));
    checks.push(pass('result.jws', `ES256 by evidence-bound key ${keys.jws.kid.slice(0, 12)}…`));
  } catch (e) {
    checks.push(failFrom('result.jws', e, 'ERR_RESULT_SIGNATURE_INVALID'));
    return report({ attestation: att });
  }

  checks.push(await bindingCheck(body, opts));
  checks.push(
    await runCheck(
      'result.eip712',
      async () => {
        const domains = opts.policy.result.eip712Domains;
        const d = att.eip712.domain;
        if (
          domains !== 'any' &&
          !domains.some(
            (x) => x.chainId === d.chainId && x.verifyingContract.toLowerCase() === d.verifyingContract.toLowerCase(),
          )
        ) {
          throw new PropsError('ERR_RESULT_EIP712_DOMAIN_NOT_ALLOWED', { detail: `chain ${d.chainId}` });
        }
        if (d.name !== 'Props' || d.version !== '1')
          throw new PropsError('ERR_RESULT_EIP712_DOMAIN_NOT_ALLOWED', { detail: 'name/version' });
        const digest = resultDigest(d, body);
        await verifyChainSignature(keys.chain, digest, att.eip712.signature as Hex);
        return `${keys.chain.scheme} signature over the EIP-712 digest${domains === 'any' ? ' (domain NOT pinned: policy any)' : ''}`;
      },
      'ERR_RESULT_EIP712_SIGNATURE_INVALID',
    ),
  );

  await acceptanceChecks(body, opts, checks);
  return report({ body, attestation: att });
}

function bindingCheck(body: ResultBody, opts: VerifyResultOptions): Promise<Check> {
  return runCheck(
    'result.binding',
    () => {
      if (body.manifestHash !== opts.evidence.manifestHash)
        throw new PropsError('ERR_RESULT_EVIDENCE_MISMATCH', { detail: 'manifestHash' });
      if (body.evidenceDigest !== opts.evidenceDigest)
        throw new PropsError('ERR_RESULT_EVIDENCE_MISMATCH', { detail: 'evidenceDigest' });
      if (body.platform !== opts.evidence.platform)
        throw new PropsError('ERR_RESULT_EVIDENCE_MISMATCH', { detail: 'platform' });
      if (body.pipelineId !== pipelineId(opts.manifest))
        throw new PropsError('ERR_RESULT_EVIDENCE_MISMATCH', { detail: 'pipelineId' });
      if (body.modelHash !== opts.manifest.modelHash)
        throw new PropsError('ERR_RESULT_EVIDENCE_MISMATCH', { detail: 'modelHash' });
      if (body.executionProvider !== opts.manifest.executionProvider)
        throw new PropsError('ERR_RESULT_EVIDENCE_MISMATCH', { detail: 'executionProvider' });
      // The enclave's rule (enclave/model/runtime.ts decide): approve exactly when score ≥ threshold.
      const o = body.output;
      if (o.decision !== (o.score >= o.threshold ? 'approve' : 'decline'))
        throw new PropsError('ERR_RESULT_DECISION_INCONSISTENT');
      return 'names this evidence, manifest, pipeline and model; decision follows from score and threshold';
    },
    'ERR_RESULT_EVIDENCE_MISMATCH',
  );
}

// Request, freshness and nonce: the same for a singly signed and a batched result.
async function acceptanceChecks(body: ResultBody, opts: VerifyResultOptions, checks: Check[]): Promise<void> {
  if (opts.expected) {
    const exp = opts.expected;
    checks.push(
      await runCheck(
        'result.request',
        () => {
          if (body.requestId !== exp.requestId) throw new PropsError('ERR_RESULT_REQUEST_MISMATCH');
          if (body.nonce !== exp.nonce) throw new PropsError('ERR_RESULT_NONCE_MISMATCH');
          return 'answers the expected request and nonce';
        },
        'ERR_RESULT_REQUEST_MISMATCH',
      ),
    );
  }

  const now = Math.floor(verificationTime(opts.now) / 1000);
  const skew = opts.policy.result.clockSkewSeconds;
  checks.push(
    await runCheck(
      'result.freshness',
      () => {
        if (now + skew < body.iat) throw new PropsError('ERR_RESULT_NOT_YET_VALID');
        if (now - skew > body.exp || now - body.iat > opts.policy.result.maxAgeSeconds + skew)
          throw new PropsError('ERR_RESULT_EXPIRED');
        return `issued ${new Date(body.iat * 1000).toISOString()}`;
      },
      'ERR_RESULT_EXPIRED',
    ),
  );

  // The nonce is consumed only by a result that passed every other check.
  if (opts.nonceStore && checks.every((c) => c.ok)) {
    const store = opts.nonceStore;
    checks.push(
      await runCheck(
        'result.nonce',
        async () => {
          if (await store.has(body.nonce)) throw new PropsError('ERR_RESULT_NONCE_REPLAYED');
          await store.add(body.nonce);
          return 'first use';
        },
        'ERR_RESULT_NONCE_REPLAYED',
      ),
    );
  }
}

/** JWS verification under the evidence-bound key, with the algorithm and key decided from the header first. */
async function verifyBoundJws(jws: string, opts: VerifyResultOptions, typ: string): Promise<Uint8Array> {
  const keys = opts.evidence.keys;
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeaderStrict(jws);
  } catch (cause) {
    throw new PropsError('ERR_RESULT_MALFORMED', { detail: 'protected header', cause });
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || !(opts.policy.result.algorithms as string[]).includes(alg) || alg !== keys.jws.alg) {
    throw new PropsError('ERR_RESULT_ALG_NOT_ALLOWED', { detail: String(alg).slice(0, 16) });
  }
  if (header.kid !== keys.jws.kid)
    throw new PropsError('ERR_RESULT_KEY_NOT_BOUND', { detail: 'kid is not the evidence-bound JWS key' });
  if (header.typ !== typ) throw new PropsError('ERR_RESULT_MALFORMED', { detail: 'typ' });
  const key = await importJWK({ ...keys.jws } as JWK, alg);
  try {
    return (await compactVerify(jws, key, { algorithms: [alg] })).payload;
  } catch (cause) {
    const code = JOSE_CODES[(cause as { code?: string }).code ?? ''] ?? 'ERR_RESULT_SIGNATURE_INVALID';
    throw new PropsError(code, { cause });
  }
}

// A batched result: the head's JWS by the evidence-bound key, the head naming this evidence, then the result's leaf
// proven into the head's root. No per-result EIP-712 signature: on chain it is paid through a log checkpoint.
async function verifyBatched(
  input: unknown,
  opts: VerifyResultOptions,
  checks: Check[],
  report: (extra?: Partial<ResultReport>) => ResultReport,
): Promise<ResultReport> {
  let batched: BatchedResult;
  try {
    batched = parseBatchedResult(input);
  } catch (e) {
    checks.push(failFrom('result.format', e, 'ERR_RESULT_MALFORMED'));
    return report();
  }
  const body = batched.body;
  let size: number;
  try {
    const payload = await verifyBoundJws(batched.head, opts, 'props-result-batch+jws');
    const head = parseResultBatchHead(parseJsonText(new TextDecoder().decode(payload), 4096));
    if (
      head.manifestHash !== opts.evidence.manifestHash ||
      head.evidenceDigest !== opts.evidenceDigest ||
      head.platform !== opts.evidence.platform ||
      head.pipelineId !== pipelineId(opts.manifest)
    ) {
      throw new PropsError('ERR_RESULT_EVIDENCE_MISMATCH', { detail: 'batch head' });
    }
    size = head.size;
    checks.push(
      pass(
        'result.jws',
        `batch head (${head.size} results) ES256 by evidence-bound key ${opts.evidence.keys.jws.kid.slice(0, 12)}…`,
      ),
    );
    checks.push(
      await runCheck(
        'result.batch',
        () => {
          if (batched.index >= size || batchRootOf(batched, size) !== head.root)
            throw new PropsError('ERR_RESULT_BATCH_PROOF_INVALID');
          return `leaf ${batched.index} of ${size} under the signed root`;
        },
        'ERR_RESULT_BATCH_PROOF_INVALID',
      ),
    );
  } catch (e) {
    checks.push(failFrom('result.jws', e, 'ERR_RESULT_SIGNATURE_INVALID'));
    return report({ batched });
  }
  checks.push(await bindingCheck(body, opts));
  await acceptanceChecks(body, opts, checks);
  return report({ body, batched });
}

const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

async function verifyChainSignature(chain: Evidence['keys']['chain'], digest: Hex, signature: Hex): Promise<void> {
  const sig = fromHex(signature);
  if (chain.scheme === 'p256') {
    if (sig.length !== 64 || !isLowS(sig))
      throw new PropsError('ERR_RESULT_EIP712_SIGNATURE_INVALID', { detail: 'not a low-s r||s signature' });
    const key = await importP256(fromHex(chain.publicKey), 'ERR_RESULT_EIP712_SIGNATURE_INVALID');
    if (!(await verifyP256(key, sig, fromHex(digest, 32)))) throw new PropsError('ERR_RESULT_EIP712_SIGNATURE_INVALID');
    return;
  }
  if (chain.scheme === 'secp256k1') {
    if (sig.length !== 65 || !chain.address) throw new PropsError('ERR_RESULT_EIP712_SIGNATURE_INVALID');
    // One encoding per signature, as on chain (OpenZeppelin ECDSA) and as the enclave signs: low-s, v ∈ {27, 28}.
    if (!(BigInt(toHex(sig.subarray(32, 64))) <= SECP256K1_HALF_N) || (sig[64] !== 27 && sig[64] !== 28)) {
      throw new PropsError('ERR_RESULT_EIP712_SIGNATURE_INVALID', {
        detail: 'not a low-s r||s||v signature with v 27/28',
      });
    }
    let recovered: string;
    try {
      recovered = await recoverAddress({ hash: digest, signature });
    } catch (cause) {
      throw new PropsError('ERR_RESULT_EIP712_SIGNATURE_INVALID', { cause });
    }
    if (recovered.toLowerCase() !== chain.address.toLowerCase())
      throw new PropsError('ERR_RESULT_EIP712_SIGNATURE_INVALID');
    return;
  }
  throw new PropsError('ERR_SIGNER_SCHEME_UNSUPPORTED');
}
