// The lenders' half of the simulation: each lender opens an escrow job, has the service score it under the
// borrower's consent, verifies the result, and is paid either at once by the result's own signature or later, as a
// batch, by inclusion proofs against a checkpoint the enclave key posts (one signature for the whole batch).
import {
  inclusionProof,
  resultMessage,
  toHex,
  type Hex,
  type ResultAttestation,
  type ResultBody,
  type ResultOutput,
} from '../protocol/index.ts';
import { resultLeafHash, verifyResult } from '../verifier/index.ts';
import type { Ingested } from './borrowers.ts';
import type { Step } from './run-checks.ts';
import type { ResultLog } from './run-log.ts';
import type { RunningService } from './service.ts';
import { DATA_OWNER_AMOUNT, jobIdHex, OPERATOR_AMOUNT, type World } from './world.ts';

export type LenderAccount = { lenderId: string; apiKey: string };
export type VerifiedResult = { request: { requestId: string; nonce: string }; attestation: ResultAttestation };

export type Payments = {
  results: VerifiedResult[];
  approved: number;
  declined: number;
  verified: number;
  paid: number;
  releaseGas: number;
  paidAmount: bigint;
  sigPaid: number;
  proofPaid: number;
};

export type ScoreAndPayParameters = {
  w: World;
  service: RunningService;
  accounts: LenderAccount[];
  ingested: Ingested[];
  /** How many results the run expects verified and paid (one per borrower). */
  borrowers: number;
  threshold: number;
  log: ResultLog;
  step: Step;
  print: (line: string) => void;
};

type Job = { jobId: bigint; nonce: Hex };
type Scored = { job: Job; attestation: ResultAttestation; output: ResultOutput };
type Batched = { jobId: bigint; body: ResultBody; index: number };

export async function scoreAndPay(p: ScoreAndPayParameters): Promise<Payments> {
  const tally: Payments = {
    results: [],
    approved: 0,
    declined: 0,
    verified: 0,
    paid: 0,
    releaseGas: 0,
    paidAmount: 0n,
    sigPaid: 0,
    proofPaid: 0,
  };
  const seen = new Set<string>();
  const batched: Batched[] = [];
  for (const [i, sub] of p.ingested.entries()) {
    if (i === Math.floor(p.ingested.length / 2) && p.log.leaves.length > 0) await p.log.postCheckpoint();
    const scored = await scoreJob(p, i, sub);
    if (!scored) continue;
    const { job, attestation, output } = scored;
    if (output.decision === 'approve') tally.approved++;
    else tally.declined++;
    const body = await verifyJob(p, scored, seen);
    if (!body) continue;
    tally.verified++;
    p.log.leaves.push(resultLeafHash(body));
    tally.results.push({ request: { requestId: body.requestId, nonce: job.nonce }, attestation });
    let how = 'batched';
    if (i % 2 === 0) {
      await payBySignature(p.w, job.jobId, body, attestation, tally);
      how = 'paid ✓';
    } else batched.push({ jobId: job.jobId, body, index: p.log.leaves.length - 1 });
    p.print(
      `  job ${String(job.jobId).padStart(3)}  ${sub.mode.padEnd(14)}  score ${String(output.score).padStart(4)}  ${output.decision.padEnd(7)}  ${output.reasonCodes.slice(0, 2).join(',') || '-'}  verified ✓ ${how}`,
    );
  }
  await p.log.postCheckpoint();
  const head = p.log.checkpoints[p.log.checkpoints.length - 1]!;
  for (const b of batched) await payByInclusionProof(p.w, p.log, b, tally);
  p.step(
    `${tally.verified} results verified by lenders, ${tally.paid} payments released`,
    tally.verified === p.borrowers && tally.paid === p.borrowers,
    `${tally.sigPaid} by signature, ${tally.proofPaid} by inclusion proof against checkpoint (size ${head.treeSize}); ${tally.releaseGas} gas in all`,
  );
  return tally;
}

/** The lender opens an escrow job and asks the service to score under the borrower's consent, naming the job. */
async function scoreJob(p: ScoreAndPayParameters, i: number, sub: Ingested): Promise<Scored | undefined> {
  const lender = p.w.lenders[i % p.w.lenders.length]!;
  const account = p.accounts[i % p.accounts.length]!;
  const job = await p.w.openJob(lender, sub.inputCommitment);
  const scored = await p.service.post(
    '/v1/jobs',
    { consentId: sub.consentId, nonce: job.nonce, escrowJobId: jobIdHex(job.jobId), threshold: p.threshold },
    { authorization: `Bearer ${account.apiKey}`, 'idempotency-key': `sim-job-${job.jobId}` },
  );
  const attestation = scored.json.attestation as ResultAttestation | undefined;
  if (scored.status !== 201 || !attestation) {
    p.step(`job ${job.jobId} scored by the service`, false, String(scored.json.code ?? scored.status));
    return undefined;
  }
  const output = (
    JSON.parse(Buffer.from(attestation.jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as ResultBody
  ).output;
  return { job, attestation, output };
}

/** The lender verifies the result against its pinned policy and the job it opened; the body when it holds. */
async function verifyJob(
  p: ScoreAndPayParameters,
  { job, attestation }: Scored,
  seen: Set<string>,
): Promise<ResultBody | undefined> {
  const { enclave } = p.w;
  const v = await verifyResult(attestation, {
    evidence: enclave.evidence,
    evidenceDigest: enclave.evidenceDigest,
    manifest: enclave.manifest,
    policy: p.w.lenderPolicy,
    now: new Date(),
    expected: { requestId: `0x${job.jobId.toString(16).padStart(64, '0')}`, nonce: job.nonce },
    nonceStore: { has: (n) => seen.has(n), add: (n) => void seen.add(n) },
  });
  if (!v.ok || !v.body) {
    p.step(
      `result for job ${job.jobId} verified by lender`,
      false,
      v.checks
        .filter((c) => !c.ok)
        .map((c) => c.code)
        .join(','),
    );
    return undefined;
  }
  return v.body;
}

/** The relayer releases the payment at once with the result's own EIP-712 signature. */
async function payBySignature(
  w: World,
  jobId: bigint,
  body: ResultBody,
  attestation: ResultAttestation,
  tally: Payments,
): Promise<void> {
  const hash = await w.relayer.release(
    jobId,
    resultMessage(body),
    w.enclave.evidence.keys.chain.publicKey as Hex,
    attestation.eip712.signature as Hex,
  );
  tally.releaseGas += await w.gasOf(hash);
  tally.sigPaid++;
  tally.paid++;
  tally.paidAmount += DATA_OWNER_AMOUNT + OPERATOR_AMOUNT;
}

/** The relayer releases a batched payment by the result's inclusion proof against the latest checkpoint. */
async function payByInclusionProof(w: World, log: ResultLog, b: Batched, tally: Payments): Promise<void> {
  const head = log.checkpoints[log.checkpoints.length - 1]!;
  const path = inclusionProof(log.leaves, b.index, head.treeSize).map((x) => toHex(x));
  const hash = await w.relayer.releaseWithProof(b.jobId, resultMessage(b.body), {
    keyId: log.keyId,
    treeSize: BigInt(head.treeSize),
    root: head.root,
    leafIndex: BigInt(b.index),
    path,
  });
  tally.releaseGas += await w.gasOf(hash);
  tally.proofPaid++;
  tally.paid++;
  tally.paidAmount += DATA_OWNER_AMOUNT + OPERATOR_AMOUNT;
}
