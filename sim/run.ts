// The whole protected pipeline on one machine: a local chain with the registry and escrow, an auditor quorum that
// registers the simulated enclave, borrowers' certified records, lenders who open escrow jobs, the enclave scoring
// with the pinned ONNX model, the lender verifying every result, payments released on chain, one job refunded after
// its deadline, and the auditor verifying the audit bundle. Everything on loopback.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestClient, http, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  chainKeyId,
  digestJson,
  keyRegistrationDigest,
  resultMessage,
  toHex,
  type ResultAttestation,
} from '../protocol/index.ts';
import {
  assessStatements,
  bootEnclave,
  buildAuditBundle,
  commitInputs,
  createSimPlatform,
  DEFAULT_MODEL_PATH,
  loadModel,
  loadPipelinePolicy,
  systemRandom,
} from '../enclave/index.ts';
import { loadDefaultPolicy, verifyBundle, verifyEvidence, verifyResult, type Policy } from '../verifier/index.ts';
import { createPropsChainClient, deploy, startLocalChain, type PropsChainClient } from '../contracts/index.ts';
import { generateBorrowers } from './bank/generator.ts';

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
  gas: { registerKey: number; releaseTotal: number; releasePerPayment: number; refund: number };
  platform: 'sim';
  simulated: true;
  manifestHash: Hex;
  pipelineId: Hex;
  modelHash: Hex;
  auditBundle: string;
  auditOk: boolean;
  checks: { step: string; ok: boolean; detail?: string }[];
  seconds: number;
};

const random32 = (): Hex => toHex(systemRandom(32));
const jobIdHex = (id: bigint): Hex => `0x${id.toString(16).padStart(64, '0')}`;

export async function runSimulation(o: SimOptions): Promise<SimSummary> {
  const t0 = performance.now();
  const checks: SimSummary['checks'] = [];
  const step = (name: string, ok: boolean, detail?: string) => {
    checks.push(detail === undefined ? { step: name, ok } : { step: name, ok, detail });
    o.log(`${ok ? '✓' : '✗'} ${name}${detail ? ` — ${detail}` : ''}`);
  };

  o.log('starting local chain (anvil, loopback) …');
  const chain = await startLocalChain({ accounts: 10 + o.lenders });
  try {
    const keys = chain.privateKeys;
    const [deployerKey, operatorKey, relayerKey] = [keys[0]!, keys[1]!, keys[2]!];
    const auditorKeys = keys.slice(3, 8);
    const lenderKeys = keys.slice(8, 8 + o.lenders);
    const dep = await deploy({ rpcUrl: chain.rpcUrl, privateKey: deployerKey, simulationAllowed: true });
    const addresses = { token: dep.token, registry: dep.registry, escrow: dep.escrow };
    const gov = await createPropsChainClient({ rpcUrl: chain.rpcUrl, privateKey: deployerKey, addresses });
    const relayer = await createPropsChainClient({ rpcUrl: chain.rpcUrl, privateKey: relayerKey, addresses });
    const operator = privateKeyToAccount(operatorKey).address;
    step('contracts deployed', true, `registry ${dep.registry}, escrow ${dep.escrow} (simulation allowed)`);

    // The enclave: sim platform, the pinned model, results addressed to this escrow.
    const pipelinePolicy = loadPipelinePolicy();
    const model = await loadModel({ path: DEFAULT_MODEL_PATH, expectedHash: pipelinePolicy.modelHash, executionProvider: 'cpu' });
    const platform = await createSimPlatform();
    const enclave = await bootEnclave({ platform, model, pipelinePolicy, eip712Domain: gov.resultDomain() });
    step('enclave booted', true, `SIMULATED platform, model ${model.modelHash.slice(0, 12)}…, provider ${model.executionProvider}`);

    // Auditors: each verifies the evidence offline and signs the registration; 3 of 5 are enough.
    for (const k of auditorKeys) await gov.setAuditor(privateKeyToAccount(k).address, true);
    await gov.setQuorum(3);
    const m = enclave.manifest;
    const pid = await gov.registerPipeline({ codeHash: m.codeHash as Hex, modelHash: m.modelHash as Hex, policyHash: m.policyHash as Hex, platform: m.platform });
    const auditorPolicy: Policy = loadDefaultPolicy();
    auditorPolicy.evidence.allowSimulated = true;
    const report = await verifyEvidence(enclave.evidence, { policy: auditorPolicy, now: new Date(), manifest: enclave.manifest });
    if (!report.ok) throw new Error('auditors refused the enclave evidence');
    const keyId = chainKeyId(enclave.evidence.keys.chain.publicKey as Hex);
    const block = await gov.publicClient.getBlock();
    const reg = {
      pipelineId: pid,
      keyId,
      evidenceDigest: enclave.evidenceDigest,
      earDigest: digestJson('props/ear/v1', report.checks),
      expiresAt: block.timestamp + 30n * 86400n,
    };
    const digest = keyRegistrationDigest(gov.registryDomain(), reg);
    const approvals = await Promise.all(
      auditorKeys.slice(0, 3).map(async (k) => {
        const a = privateKeyToAccount(k);
        return { auditor: a.address, signature: await a.sign({ hash: digest }) };
      }),
    );
    const regHash = await relayer.registerKey(reg, approvals);
    const regGas = Number((await gov.publicClient.getTransactionReceipt({ hash: regHash })).gasUsed);
    const keyCheck = await gov.checkKey(keyId, pid);
    step('enclave key registered by auditor quorum (3 of 5)', keyCheck.valid, `pipeline ${pid.slice(0, 12)}…, ${regGas} gas`);

    // Lenders: funded, each verifying results under a policy pinning this pipeline and this escrow.
    const lenders: PropsChainClient[] = [];
    for (const k of lenderKeys) {
      const c = await createPropsChainClient({ rpcUrl: chain.rpcUrl, privateKey: k, addresses });
      await gov.mint(c.account!, 10n ** 15n);
      await c.approveEscrow(2n ** 255n);
      lenders.push(c);
    }
    const lenderPolicy: Policy = loadDefaultPolicy();
    lenderPolicy.evidence.allowSimulated = true;
    lenderPolicy.manifest = { codeHashes: [enclave.manifest.codeHash], modelHashes: [enclave.manifest.modelHash], policyHashes: [enclave.manifest.policyHash] };
    lenderPolicy.result.eip712Domains = [{ chainId: gov.chainId, verifyingContract: dep.escrow }];
    const lenderEvidence = await verifyEvidence(enclave.evidence, { policy: lenderPolicy, now: new Date(), manifest: enclave.manifest });
    step('lenders verified the enclave evidence against their pinned policy', lenderEvidence.ok, 'code, model and policy hashes pinned; EIP-712 domain = escrow');

    // Borrowers and their certified records (bank generator; provenance paths arrive with the oracle).
    const borrowers = generateBorrowers(o.seed, o.borrowers);
    step(`${o.borrowers} borrowers' statements fetched`, borrowers.length === o.borrowers);

    const results: { request: { requestId: string; nonce: string }; attestation: ResultAttestation }[] = [];
    let approved = 0;
    let declined = 0;
    let verified = 0;
    let paid = 0;
    let releaseGas = 0;
    let paidAmount = 0n;
    const seen = new Set<string>();
    const dataOwnerAmount = 700n;
    const operatorAmount = 300n;
    for (const [i, b] of borrowers.entries()) {
      const lender = lenders[i % lenders.length]!;
      const dataOwner = privateKeyToAccount(random32()).address as Address;
      const nonce = random32();
      const deadline = (await gov.publicClient.getBlock()).timestamp + 3600n;
      const jobId = await lender.openJob({ pipelineId: pid, nonce, dataOwner, dataOwnerAmount, operator, operatorAmount, deadline });
      const request = { requestId: jobIdHex(jobId), nonce, consentRef: digestJson('props/consent-ref/v1', { borrower: i, lender: lender.account }) };
      const [assessment] = await assessStatements(model, [b.statement], o.threshold);
      const attestation = await enclave.signResult(request, assessment!.output, commitInputs(b.statement));
      if (assessment!.output.decision === 'approve') approved++;
      else declined++;
      const v = await verifyResult(attestation, {
        evidence: enclave.evidence,
        evidenceDigest: enclave.evidenceDigest,
        manifest: enclave.manifest,
        policy: lenderPolicy,
        now: new Date(),
        expected: { requestId: request.requestId, nonce },
        nonceStore: { has: (n) => seen.has(n), add: (n) => void seen.add(n) },
      });
      if (!v.ok || !v.body) {
        step(`result for job ${jobId} verified by lender`, false, v.checks.filter((c) => !c.ok).map((c) => c.code).join(','));
        continue;
      }
      verified++;
      const hash = await relayer.release(jobId, resultMessage(v.body), enclave.evidence.keys.chain.publicKey as Hex, attestation.eip712.signature as Hex);
      releaseGas += Number((await gov.publicClient.getTransactionReceipt({ hash })).gasUsed);
      paid++;
      paidAmount += dataOwnerAmount + operatorAmount;
      results.push({ request: { requestId: request.requestId, nonce }, attestation });
      o.log(`  job ${String(jobId).padStart(3)}  borrower ${String(i + 1).padStart(3)}  score ${String(assessment!.output.score).padStart(4)}  ${assessment!.output.decision.padEnd(7)}  ${assessment!.output.reasonCodes.slice(0, 2).join(',') || '-'}  verified ✓ paid ✓`);
    }
    step(`${verified} results verified by lenders, ${paid} payments released`, verified === o.borrowers && paid === o.borrowers, `${releaseGas} gas in all`);

    // One job nobody answers: refunded after its deadline, and nobody can stop that.
    const lender0 = lenders[0]!;
    const before = await lender0.balanceOf(lender0.account!);
    const deadline = (await gov.publicClient.getBlock()).timestamp + 600n;
    const orphan = await lender0.openJob({ pipelineId: pid, nonce: random32(), dataOwner: operator, dataOwnerAmount, operator, operatorAmount, deadline });
    const test = createTestClient({ mode: 'anvil', transport: http(chain.rpcUrl) });
    await test.increaseTime({ seconds: 601 });
    await test.mine({ blocks: 1 });
    const refundHash = await lender0.refund(orphan);
    const refundGas = Number((await gov.publicClient.getTransactionReceipt({ hash: refundHash })).gasUsed);
    const after = await lender0.balanceOf(lender0.account!);
    const refunded = after === before ? 1 : 0;
    step('unanswered job refunded after its deadline', refunded === 1, `job ${orphan}, ${refundGas} gas`);

    // The auditor: the whole bundle, offline.
    mkdirSync(o.outDir, { recursive: true });
    const bundle = buildAuditBundle(enclave, results, new Date());
    const bundlePath = join(o.outDir, 'bundle.json');
    writeFileSync(bundlePath, `${JSON.stringify(bundle, null, 2)}\n`);
    writeFileSync(join(o.outDir, 'policy.json'), `${JSON.stringify(lenderPolicy, null, 2)}\n`);
    const audit = await verifyBundle(bundle, { policy: lenderPolicy, now: new Date() });
    step('auditor verified the audit bundle', audit.ok, `${audit.checks.length} checks, EAR ${audit.ear.submods['props-enclave']?.['ear.status']} (simulated hardware)`);

    await model.release();
    const summary: SimSummary = {
      ok: checks.every((c) => c.ok),
      borrowers: o.borrowers,
      scored: approved + declined,
      approved,
      declined,
      verified,
      paid,
      refunded,
      paidAmount: paidAmount.toString(),
      gas: { registerKey: regGas, releaseTotal: releaseGas, releasePerPayment: paid ? Math.round(releaseGas / paid) : 0, refund: refundGas },
      platform: 'sim',
      simulated: true,
      manifestHash: enclave.manifestHash,
      pipelineId: pid,
      modelHash: enclave.manifest.modelHash as Hex,
      auditBundle: bundlePath,
      auditOk: audit.ok,
      checks,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    };
    writeFileSync(join(o.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    return summary;
  } finally {
    await chain.close();
  }
}
