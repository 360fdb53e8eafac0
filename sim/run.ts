// The whole protected pipeline on one machine: a local chain with the registry and escrow, an auditor quorum that
// registers the simulated enclave, borrowers' certified records, lenders who open escrow jobs, the enclave scoring
// with the pinned ONNX model, the lender verifying every result, payments released on chain, one job refunded after
// its deadline, and the auditor verifying the audit bundle. Everything on loopback.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex, type Hex } from '../protocol/index.ts';
import { startScoringService, type RunningService } from './service.ts';
import { verifyEvidence } from '../verifier/index.ts';
import { generateBorrowers, type Borrower } from './bank/generator.ts';
import { createWorld, type World } from './world.ts';
import { startBorrowerSide, type BorrowerSide, type Ingested } from './borrowers.ts';
import { createChecks, type Check, type Step } from './run-checks.ts';
import { createResultLog } from './run-log.ts';
import { scoreAndPay, type LenderAccount, type Payments } from './run-pay.ts';
import { auditBundle, auditTransparencyLog, checkNoRecordInClear } from './run-audit.ts';

export type SimOptions = {
  borrowers: number;
  lenders: number;
  outDir: string;
  seed: string;
  threshold: number;
  /** Progress lines (one per step); the CLI prints them, tests collect them. */
  log: (line: string) => void;
};

export type SimSummary = {
  ok: boolean;
  borrowers: number;
  scored: number;
  approved: number;
  declined: number;
  verified: number;
  paid: number;
  refunded: number;
  paidAmount: string;
  paidBySignature: number;
  paidByInclusionProof: number;
  gas: { registerKey: number; releaseTotal: number; releasePerPayment: number; refund: number };
  platform: 'sim';
  simulated: true;
  manifestHash: Hex;
  pipelineId: Hex;
  modelHash: Hex;
  auditBundle: string;
  auditOk: boolean;
  checks: Check[];
  seconds: number;
};

export async function runSimulation(o: SimOptions): Promise<SimSummary> {
  const t0 = performance.now();
  const { checks, step } = createChecks(o.log);
  o.log('starting local chain (anvil, loopback) …');
  const w = await createWorld({ lenders: o.lenders, log: o.log });
  const closers: (() => Promise<void>)[] = [];
  try {
    const reg = await registerAndCheckEnclave(w, step);
    const borrowers = generateBorrowers(o.seed, o.borrowers);
    const side = await startPortal(w, borrowers, closers, step);
    const { service, dbPath, accounts } = await startService(o, w, side, closers, step);
    const ingested = await submitAll(o, borrowers, side, accounts, step);
    const log = createResultLog(w, service.url, reg.keyId);
    const payments = await scoreAndPay({
      w,
      service,
      accounts,
      ingested,
      borrowers: o.borrowers,
      threshold: o.threshold,
      log,
      step,
      print: o.log,
    });
    const refund = await refundUnanswered(w, ingested, step);
    const audit = await auditBundle({ w, serviceUrl: service.url, results: payments.results, outDir: o.outDir, step });
    await auditTransparencyLog({ w, serviceUrl: service.url, results: payments.results, log, step });
    // The service closes its database before the scan for records in the clear.
    await closers.shift()?.();
    checkNoRecordInClear(dbPath, borrowers, step);
    writeFileSync(
      join(o.outDir, 'log.json'),
      `${JSON.stringify({ keyId: log.keyId, checkpoints: log.checkpoints, leaves: log.leaves.map((l) => toHex(l)) }, null, 2)}\n`,
    );
    const summary = summarize({ o, w, registerGas: reg.gas, payments, refund, audit, checks, t0 });
    writeFileSync(join(o.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    return summary;
  } finally {
    for (const c of closers) await c();
    await w.close();
  }
}

/** The auditor quorum registers the enclave key; the lenders check the evidence against their pinned policy. */
async function registerAndCheckEnclave(w: World, step: Step): Promise<{ keyId: Hex; gas: number }> {
  const { enclave, gov, pid } = w;
  const reg = await w.registerEnclave(enclave);
  const keyCheck = await gov.checkKey(reg.keyId, pid);
  step(
    'enclave key registered by auditor quorum (3 of 5)',
    keyCheck.valid,
    `pipeline ${pid.slice(0, 12)}…, ${reg.gas} gas`,
  );
  const lenderEvidence = await verifyEvidence(enclave.evidence, {
    policy: w.lenderPolicy,
    now: new Date(),
    manifest: enclave.manifest,
  });
  step(
    'lenders verified the enclave evidence against their pinned policy',
    lenderEvidence.ok,
    'code, model and policy hashes pinned; EIP-712 domain = escrow',
  );
  return reg;
}

/** The bank portal and the borrowers' clients; closed by the caller through `closers`. */
async function startPortal(
  w: World,
  borrowers: readonly Borrower[],
  closers: (() => Promise<void>)[],
  step: Step,
): Promise<BorrowerSide> {
  // Data owners check the enclave under their own policy (simulated evidence knowingly allowed, hashes pinned).
  const side = await startBorrowerSide({
    enclave: w.enclave,
    statements: borrowers.map((b) => b.statement),
    ownerPolicy: w.lenderPolicy,
  });
  closers.push(() => side.close());
  step('bank portal up', true, `https://${side.portal.host} on loopback, test CA`);
  return side;
}

/**
 * The scoring service, from inside the enclave boundary (SQLite, ONNX scorer, oracle formats), on loopback, with one
 * account per lender; it is closed first, before the rest of `closers`.
 */
async function startService(
  o: SimOptions,
  w: World,
  side: BorrowerSide,
  closers: (() => Promise<void>)[],
  step: Step,
): Promise<{ service: RunningService; dbPath: string; accounts: LenderAccount[] }> {
  mkdirSync(o.outDir, { recursive: true });
  const dbPath = join(o.outDir, 'props.db');
  const service = await startScoringService({
    enclave: w.enclave,
    model: w.model,
    provenancePolicy: side.provenancePolicy,
    dbPath,
    fresh: true,
  });
  closers.unshift(() => service.close());
  side.useService(service.url);
  const accounts: LenderAccount[] = [];
  for (const l of w.lenders) accounts.push(await service.createLender(`lender ${l.account}`));
  step(
    'scoring service up',
    accounts.length === w.lenders.length,
    `${service.url} (SQLite ${dbPath}), ${accounts.length} lender accounts`,
  );
  return { service, dbPath, accounts };
}

/** Every borrower submits a proof (source-signed and attested fetches alternate) and grants one lender a consent. */
async function submitAll(
  o: SimOptions,
  borrowers: readonly Borrower[],
  side: BorrowerSide,
  accounts: LenderAccount[],
  step: Step,
): Promise<Ingested[]> {
  const ingested: Ingested[] = [];
  for (const i of borrowers.keys()) {
    ingested.push(
      await side.submitAndConsent(
        i,
        i % 2 === 0 ? 'signed-source' : 'attested-fetch',
        accounts[i % accounts.length]!.lenderId,
      ),
    );
  }
  const modes = {
    signed: ingested.filter((x) => x.mode === 'signed-source').length,
    fetched: ingested.filter((x) => x.mode === 'attested-fetch').length,
  };
  step(
    `${o.borrowers} borrowers checked the enclave, submitted encrypted proofs and granted consents`,
    ingested.length === o.borrowers,
    `${modes.signed} source-signed, ${modes.fetched} attested fetches; every proof verified at ingest, receipts signed`,
  );
  return ingested;
}

/** One job nobody answers: refunded after its deadline, and nobody can stop that. */
async function refundUnanswered(
  w: World,
  ingested: Ingested[],
  step: Step,
): Promise<{ refunded: number; refundGas: number }> {
  const lender0 = w.lenders[0]!;
  const before = await lender0.balanceOf(lender0.account!);
  const orphan = await w.openJob(lender0, ingested[0]!.inputCommitment, 600n);
  await w.advanceTime(601);
  const refundGas = await w.gasOf(await lender0.refund(orphan.jobId));
  const refunded = (await lender0.balanceOf(lender0.account!)) === before ? 1 : 0;
  step('unanswered job refunded after its deadline', refunded === 1, `job ${orphan.jobId}, ${refundGas} gas`);
  return { refunded, refundGas };
}

function summarize(p: {
  o: SimOptions;
  w: World;
  registerGas: number;
  payments: Payments;
  refund: { refunded: number; refundGas: number };
  audit: { bundlePath: string; auditOk: boolean };
  checks: Check[];
  t0: number;
}): SimSummary {
  const { payments: pay, w } = p;
  return {
    ok: p.checks.every((c) => c.ok),
    borrowers: p.o.borrowers,
    scored: pay.approved + pay.declined,
    approved: pay.approved,
    declined: pay.declined,
    verified: pay.verified,
    paid: pay.paid,
    refunded: p.refund.refunded,
    paidAmount: pay.paidAmount.toString(),
    paidBySignature: pay.sigPaid,
    paidByInclusionProof: pay.proofPaid,
    gas: {
      registerKey: p.registerGas,
      releaseTotal: pay.releaseGas,
      releasePerPayment: pay.paid ? Math.round(pay.releaseGas / pay.paid) : 0,
      refund: p.refund.refundGas,
    },
    platform: 'sim',
    simulated: true,
    manifestHash: w.enclave.manifestHash,
    pipelineId: w.pid,
    modelHash: w.enclave.manifest.modelHash as Hex,
    auditBundle: p.audit.bundlePath,
    auditOk: p.audit.auditOk,
    checks: p.checks,
    seconds: Math.round((performance.now() - p.t0) / 100) / 10,
  };
}
