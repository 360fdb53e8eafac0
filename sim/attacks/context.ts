// What every attack layer plays against: the world with its enclave registered, one borrower, the data-owner side
// with a genuine submission and consent, two pinned banks that sign statements, and the helpers that make an attempt
// and check it left no trace.
import { base64url } from 'jose';
import { hashTypedData, type Hex } from 'viem';
import {
  findPropsError,
  fromHex,
  resultMessage,
  RESULT_TYPES,
  toTypedDataDomain,
  type ResultAttestation,
  type ResultBody,
} from '../../protocol/index.ts';
import { commitInputs } from '../../enclave/index.ts';
import { verifyResult, type Policy } from '../../verifier/index.ts';
import { basePolicy, makeKey, makeSignedSource } from '../../testing/provenance.ts';
import { generateBorrowers } from '../bank/generator.ts';
import { startBorrowerSide } from '../borrowers.ts';
import { jobIdHex, random32, type World } from '../world.ts';
import type { Attempt } from './types.ts';

type Lender = World['lenders'][number];
type BankKey = Awaited<ReturnType<typeof makeKey>>;

/** Two banks that sign their statements, each pinned by the enclave's provenance policy for its own host. */
export type ProvenanceFixture = {
  bankKey: BankKey;
  otherBankKey: BankKey;
  policy: ReturnType<typeof basePolicy>;
  /** The time the statements are signed around, in seconds. */
  nowS: number;
  /** A statement the bank genuinely signed. */
  genuine: string;
};

export type AttackContext = {
  w: World;
  threshold: number;
  lender: Lender;
  otherLender: Lender;
  /** The registered key of the world's enclave, and its on-chain public key. */
  keyId: Hex;
  pub: Hex;
  statement: ReturnType<typeof generateBorrowers>[number]['statement'];
  consentRef: Hex;
  prov: ProvenanceFixture;
  side: Awaited<ReturnType<typeof startBorrowerSide>>;
  /** The genuine submission and consent, made through the portal for `lender`. */
  sub: Awaited<ReturnType<Awaited<ReturnType<typeof startBorrowerSide>>['submitAndConsent']>>;
  lenderId: string;
};

/** The code a failure carries: a PropsError's code, or a contract's custom error name for chain reverts. */
export function codeOf(e: unknown): string {
  const pe = findPropsError(e);
  if (!pe) return 'UNCODED';
  return pe.code === 'ERR_CHAIN_REVERTED' && pe.detail ? pe.detail : pe.code;
}

/** The code `fn` is refused with, or null when it is accepted. */
export async function rejection(fn: () => Promise<unknown>): Promise<string | null> {
  try {
    await fn();
    return null;
  } catch (e) {
    return codeOf(e);
  }
}

async function provenanceFixture(): Promise<ProvenanceFixture> {
  const bankKey = await makeKey('bank-2026');
  const otherBankKey = await makeKey('other-bank-2026');
  const policy = basePolicy({
    signedSource: {
      hosts: ['bank.props.test', 'other-bank.props.test'],
      algorithms: ['ES256'],
      jwks: { keys: [bankKey.jwk, otherBankKey.jwk] },
      kids: [
        { kid: bankKey.jwk.kid, issuers: ['bank.props.test'] },
        { kid: otherBankKey.jwk.kid, issuers: ['other-bank.props.test'] },
      ],
    },
  });
  const nowS = Math.floor(Date.now() / 1000);
  const genuine = await makeSignedSource(bankKey, {
    iss: 'bank.props.test',
    sub: 'acc_1',
    iat: nowS - 60,
    exp: nowS + 600,
  });
  return { bankKey, otherBankKey, policy, nowS, genuine };
}

/** The context of one catalogue run. Its borrower side is closed by the caller, or here when the context fails. */
export async function attackContext(w: World, threshold: number): Promise<AttackContext> {
  const [lender, otherLender] = [w.lenders[0]!, w.lenders[1]!];
  const { keyId } = await w.registerEnclave(w.enclave);
  const [borrower] = generateBorrowers('attacks', 1);
  const statement = borrower!.statement;
  const consentRef = random32();
  const pub = w.enclave.evidence.keys.chain.publicKey as Hex;
  const prov = await provenanceFixture();
  // The data-owner side: one genuine submission and consent through the portal, oracle client and ingest.
  const side = await startBorrowerSide({ enclave: w.enclave, statements: [statement], ownerPolicy: w.lenderPolicy });
  try {
    const lenderId = lender.account!.toLowerCase();
    const sub = await side.submitAndConsent(0, 'signed-source', lenderId);
    return { w, threshold, lender, otherLender, keyId, pub, statement, consentRef, prov, side, sub, lenderId };
  } catch (e) {
    await side.close();
    throw e;
  }
}

/** The body a result attestation's JWS carries. */
export const resultBodyOf = (attestation: ResultAttestation): ResultBody =>
  JSON.parse(new TextDecoder().decode(base64url.decode(attestation.jws.split('.')[1]!))) as ResultBody;

/** A lender's verification of a result from the world's enclave; with `seen`, nonces are remembered there. */
export const verifyAs = (
  { w }: AttackContext,
  att: unknown,
  expected: { requestId: string; nonce: string },
  policy: Policy = w.lenderPolicy,
  seen?: Set<string>,
) =>
  verifyResult(att, {
    evidence: w.enclave.evidence,
    evidenceDigest: w.enclave.evidenceDigest,
    manifest: w.enclave.manifest,
    policy,
    now: new Date(),
    expected,
    ...(seen ? { nonceStore: { has: (n: string) => seen.has(n), add: (n: string) => void seen.add(n) } } : {}),
  });

/** The code of a verification's first failed check, or null when every check passed. */
export const firstFailure = (r: { checks: { ok: boolean; code?: string }[] }) =>
  r.checks.find((c) => !c.ok)?.code ?? null;

/** A fresh job and an honest result for it. */
export async function honest(c: AttackContext) {
  const job = await c.w.openJob(c.lender, commitInputs(c.statement));
  const { attestation } = await c.w.score(c.w.enclave, c.statement, job, c.threshold, c.consentRef);
  const body = resultBodyOf(attestation);
  return { job, attestation, body, expected: { requestId: jobIdHex(job.jobId), nonce: job.nonce } };
}

/** A release attempt that must revert and leave the job open and every balance as it was. */
export async function mustNotPay(
  { w }: AttackContext,
  jobId: bigint,
  attempt: () => Promise<unknown>,
): Promise<Attempt> {
  const job = await w.gov.getJob(jobId);
  const balances = async () => [
    await w.gov.balanceOf(job.dataOwner),
    await w.gov.balanceOf(w.operator),
    await w.gov.balanceOf(w.dep.escrow),
  ];
  const before = await balances();
  const code = await rejection(attempt);
  const after = await balances();
  const traceFree = before.every((b, i) => b === after[i]) && (await w.gov.getJob(jobId)).status === 'open';
  return { code, traceFree };
}

/** Releases `job` with `attestation`'s result and signature, naming `key` as the signer's on-chain key. */
export const releaseWith = (
  { w }: AttackContext,
  jobId: bigint,
  attestation: ResultAttestation,
  key: Hex,
  body: ResultBody = resultBodyOf(attestation),
) => w.relayer.release(jobId, resultMessage(body), key, attestation.eip712.signature as Hex);

/** The enclave's own on-chain key signing a result under another EIP-712 domain. */
export const signUnderDomain = (
  { w }: AttackContext,
  body: ResultBody,
  domain: ResultAttestation['eip712']['domain'],
) =>
  w.enclave.keys.chainSigner.signDigest(
    fromHex(
      hashTypedData({
        domain: toTypedDataDomain(domain),
        types: RESULT_TYPES,
        primaryType: 'PropsResult',
        message: resultMessage(body),
      }),
      32,
    ),
  );
