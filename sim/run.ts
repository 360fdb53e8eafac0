// The whole protected pipeline on one machine: a local chain with the registry and escrow, an auditor quorum that
// registers the simulated enclave, borrowers' certified records, lenders who open escrow jobs, the enclave scoring
// with the pinned ONNX model, the lender verifying every result, payments released on chain, one job refunded after
// its deadline, and the auditor verifying the audit bundle. Everything on loopback.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  fromHex,
  inclusionProof,
  resultMessage,
  toHex,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  type Hex,
  type ResultAttestation,
  type ResultBody,
} from '../protocol/index.ts';
import { buildAuditBundle } from '../enclave/index.ts';
import { startScoringService } from './service.ts';
import { resultBodyOfJws, resultLeafHash, verifyBundle, verifyEvidence, verifyResult } from '../verifier/index.ts';
import { generateBorrowers } from './bank/generator.ts';
import { createWorld, DATA_OWNER_AMOUNT, jobIdHex, OPERATOR_AMOUNT } from './world.ts';
import { startBorrowerSide } from './borrowers.ts';

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
  checks: { step: string; ok: boolean; detail?: string }[];
  seconds: number;
};

export async function runSimulation(o: SimOptions): Promise<SimSummary> {
  const t0 = performance.now();
  const checks: SimSummary['checks'] = [];
  const step = (name: string, ok: boolean, detail?: string) => {
    checks.push(detail === undefined ? { step: name, ok } : { step: name, ok, detail });
    o.log(`${ok ? '✓' : '✗'} ${name}${detail ? ` — ${detail}` : ''}`);
  };

  o.log('starting local chain (anvil, loopback) …');
  const w = await createWorld({ lenders: o.lenders, log: o.log });
  const closers: (() => Promise<void>)[] = [];
  try {
    const { enclave, gov, relayer, pid } = w;
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

    const borrowers = generateBorrowers(o.seed, o.borrowers);
    // Data owners check the enclave under their own policy (simulated evidence knowingly allowed, hashes pinned).
    const side = await startBorrowerSide({
      enclave,
      statements: borrowers.map((b) => b.statement),
      ownerPolicy: w.lenderPolicy,
    });
    closers.push(() => side.close());
    step('bank portal up', true, `https://${side.portal.host} on loopback, test CA`);

    // The scoring service, from inside the enclave boundary (SQLite, ONNX scorer, oracle formats), on loopback.
    mkdirSync(o.outDir, { recursive: true });
    const dbPath = join(o.outDir, 'props.db');
    const service = await startScoringService({
      enclave,
      model: w.model,
      provenancePolicy: side.provenancePolicy,
      dbPath,
      fresh: true,
    });
    closers.unshift(() => service.close());
    side.useService(service.url);
    const api = service.post;
    const accounts: { lenderId: string; apiKey: string }[] = [];
    for (const l of w.lenders) accounts.push(await service.createLender(`lender ${l.account}`));
    step(
      'scoring service up',
      accounts.length === w.lenders.length,
      `${service.url} (SQLite ${dbPath}), ${accounts.length} lender accounts`,
    );

    const ingested = [];
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

    const results: { request: { requestId: string; nonce: string }; attestation: ResultAttestation }[] = [];
    let approved = 0;
    let declined = 0;
    let verified = 0;
    let paid = 0;
    let releaseGas = 0;
    let paidAmount = 0n;
    let sigPaid = 0;
    let proofPaid = 0;
    const seen = new Set<string>();
    // The service's transparency log holds one RFC 9162 leaf per result (leaf data = the EIP-712 struct hash the
    // escrow recomputes); the enclave key posts its heads on chain as checkpoints.
    const leaves: Uint8Array[] = [];
    const batched: { jobId: bigint; body: ResultBody; index: number }[] = [];
    const checkpoints: { treeSize: number; root: Hex }[] = [];
    const keyId = reg.keyId;
    // The relayer asks the service for its head as a checkpoint for this registry (signed inside the enclave by its
    // on-chain key) and posts it: what an operator's relayer does in production.
    const postCheckpoint = async () => {
      const { chainId, verifyingContract } = gov.registryDomain();
      const cp = (await (
        await fetch(`${service.url}/v1/log/checkpoint?chainId=${chainId}&registry=${verifyingContract}`)
      ).json()) as { keyId: Hex; publicKey: Hex; treeSize: number; root: Hex; signature: Hex };
      const { treeSize, root } = cp;
      if (cp.keyId !== keyId || treeSize !== leaves.length || root !== toHex(treeRoot(leaves)))
        throw new Error('service checkpoint does not match the results it returned');
      await relayer.postCheckpoint(cp.publicKey, BigInt(treeSize), root, cp.signature);
      checkpoints.push({ treeSize, root });
    };
    for (const [i, sub] of ingested.entries()) {
      if (i === Math.floor(ingested.length / 2) && leaves.length > 0) await postCheckpoint();
      const lender = w.lenders[i % w.lenders.length]!;
      const account = accounts[i % accounts.length]!;
      const job = await w.openJob(lender, sub.inputCommitment);
      // The lender asks the service to score under the borrower's consent, naming the escrow job.
      const scored = await api(
        '/v1/jobs',
        { consentId: sub.consentId, nonce: job.nonce, escrowJobId: jobIdHex(job.jobId), threshold: o.threshold },
        { authorization: `Bearer ${account.apiKey}`, 'idempotency-key': `sim-job-${job.jobId}` },
      );
      const attestation = scored.json.attestation as ResultAttestation | undefined;
      if (scored.status !== 201 || !attestation) {
        step(`job ${job.jobId} scored by the service`, false, String(scored.json.code ?? scored.status));
        continue;
      }
      const output = (
        JSON.parse(Buffer.from(attestation.jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as ResultBody
      ).output;
      if (output.decision === 'approve') approved++;
      else declined++;
      const v = await verifyResult(attestation, {
        evidence: enclave.evidence,
        evidenceDigest: enclave.evidenceDigest,
        manifest: enclave.manifest,
        policy: w.lenderPolicy,
        now: new Date(),
        expected: { requestId: `0x${job.jobId.toString(16).padStart(64, '0')}`, nonce: job.nonce },
        nonceStore: { has: (n) => seen.has(n), add: (n) => void seen.add(n) },
      });
      if (!v.ok || !v.body) {
        step(
          `result for job ${job.jobId} verified by lender`,
          false,
          v.checks
            .filter((c) => !c.ok)
            .map((c) => c.code)
            .join(','),
        );
        continue;
      }
      verified++;
      leaves.push(resultLeafHash(v.body));
      results.push({ request: { requestId: v.body.requestId, nonce: job.nonce }, attestation });
      // Half the jobs are paid at once by the result's own signature; the rest later, as a batch, by inclusion
      // proofs against a checkpoint the enclave key posts (one signature for the whole batch).
      let how = 'batched';
      if (i % 2 === 0) {
        const hash = await relayer.release(
          job.jobId,
          resultMessage(v.body),
          enclave.evidence.keys.chain.publicKey as Hex,
          attestation.eip712.signature as Hex,
        );
        releaseGas += await w.gasOf(hash);
        sigPaid++;
        paid++;
        paidAmount += DATA_OWNER_AMOUNT + OPERATOR_AMOUNT;
        how = 'paid ✓';
      } else batched.push({ jobId: job.jobId, body: v.body, index: leaves.length - 1 });
      o.log(
        `  job ${String(job.jobId).padStart(3)}  ${sub.mode.padEnd(14)}  score ${String(output.score).padStart(4)}  ${output.decision.padEnd(7)}  ${output.reasonCodes.slice(0, 2).join(',') || '-'}  verified ✓ ${how}`,
      );
    }
    await postCheckpoint();
    const head = checkpoints[checkpoints.length - 1]!;
    for (const b of batched) {
      const path = inclusionProof(leaves, b.index, head.treeSize).map((x) => toHex(x));
      const hash = await relayer.releaseWithProof(b.jobId, resultMessage(b.body), {
        keyId,
        treeSize: BigInt(head.treeSize),
        root: head.root,
        leafIndex: BigInt(b.index),
        path,
      });
      releaseGas += await w.gasOf(hash);
      proofPaid++;
      paid++;
      paidAmount += DATA_OWNER_AMOUNT + OPERATOR_AMOUNT;
    }
    step(
      `${verified} results verified by lenders, ${paid} payments released`,
      verified === o.borrowers && paid === o.borrowers,
      `${sigPaid} by signature, ${proofPaid} by inclusion proof against checkpoint (size ${head.treeSize}); ${releaseGas} gas in all`,
    );

    // One job nobody answers: refunded after its deadline, and nobody can stop that.
    const lender0 = w.lenders[0]!;
    const before = await lender0.balanceOf(lender0.account!);
    const orphan = await w.openJob(lender0, ingested[0]!.inputCommitment, 600n);
    await w.advanceTime(601);
    const refundGas = await w.gasOf(await lender0.refund(orphan.jobId));
    const refunded = (await lender0.balanceOf(lender0.account!)) === before ? 1 : 0;
    step('unanswered job refunded after its deadline', refunded === 1, `job ${orphan.jobId}, ${refundGas} gas`);

    const bundle = buildAuditBundle(enclave, results, new Date());
    // Each result's log inclusion proof under the service's current signed tree head: `props verify` checks them.
    const sth = (await (await fetch(`${service.url}/v1/log/head`)).json()) as { treeSize: number };
    for (const [i, r] of results.entries()) {
      const inc = (await (
        await fetch(`${service.url}/v1/log/inclusion?index=${i}&treeSize=${sth.treeSize}`)
      ).json()) as Record<string, unknown>;
      bundle.logProofs.push({
        type: 'props-log-inclusion',
        v: 1,
        requestId: r.request.requestId,
        ...inc,
        signedTreeHead: sth,
      });
    }
    const bundlePath = join(o.outDir, 'bundle.json');
    writeFileSync(bundlePath, `${JSON.stringify(bundle, null, 2)}\n`);
    writeFileSync(join(o.outDir, 'policy.json'), `${JSON.stringify(w.lenderPolicy, null, 2)}\n`);
    const audit = await verifyBundle(bundle, { policy: w.lenderPolicy, now: new Date() });
    step(
      'auditor verified the audit bundle',
      audit.ok,
      `${audit.checks.length} checks, EAR ${audit.ear.submods['props-enclave']?.['ear.status']} (simulated hardware)`,
    );

    // The auditor recomputes every leaf from the bundle's results and checks the log against the chain.
    // Proofs come from the service's log API; the auditor recomputes every leaf from the results themselves.
    const auditLeaves = results.map((r) => resultLeafHash(resultBodyOfJws(r.attestation.jws)));
    let included = true;
    for (const [i, leaf] of auditLeaves.entries()) {
      const p = (await (
        await fetch(`${service.url}/v1/log/inclusion?index=${i}&treeSize=${head.treeSize}`)
      ).json()) as { proof: Hex[] };
      included &&= verifyInclusion(
        leaf,
        i,
        head.treeSize,
        p.proof.map((x) => fromHex(x, 32)),
        fromHex(head.root, 32),
      );
    }
    const first = checkpoints[0]!;
    const cons = (await (
      await fetch(`${service.url}/v1/log/consistency?oldSize=${first.treeSize}&newSize=${head.treeSize}`)
    ).json()) as { proof: Hex[] };
    const consistent =
      checkpoints.length < 2 ||
      verifyConsistency(
        first.treeSize,
        head.treeSize,
        fromHex(first.root, 32),
        fromHex(head.root, 32),
        cons.proof.map((x) => fromHex(x, 32)),
      );
    const onChain = await gov.getHead(keyId);
    const anchored = onChain.treeSize === BigInt(head.treeSize) && onChain.root === head.root;
    step(
      'auditor verified the transparency log',
      included && consistent && anchored,
      `${auditLeaves.length} results included; checkpoints ${checkpoints.map((c) => c.treeSize).join(' → ')} consistent; on-chain head = size ${onChain.treeSize}`,
    );
    // Records never reach the host's database in the clear: scan the SQLite files for every borrower's account id
    // and transaction descriptions (ciphertexts only are stored, and deleted by the retention policy).
    await closers.shift()?.();
    const dbBytes = [dbPath, `${dbPath}-wal`]
      .map((f) => (existsSync(f) ? readFileSync(f).toString('latin1') : ''))
      .join('');
    const needles = borrowers
      .flatMap((b) => [b.statement.accountId, ...new Set(b.statement.transactions.map((t) => t.description))])
      .filter((n) => n.length >= 8);
    const leaked = needles.filter((n) => dbBytes.includes(n));
    step(
      'no record in the clear in the service database',
      leaked.length === 0,
      `${needles.length} record values searched in ${dbPath}: ${leaked.length} found`,
    );
    writeFileSync(
      join(o.outDir, 'log.json'),
      `${JSON.stringify({ keyId, checkpoints, leaves: leaves.map((l) => toHex(l)) }, null, 2)}\n`,
    );

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
      paidBySignature: sigPaid,
      paidByInclusionProof: proofPaid,
      gas: {
        registerKey: reg.gas,
        releaseTotal: releaseGas,
        releasePerPayment: paid ? Math.round(releaseGas / paid) : 0,
        refund: refundGas,
      },
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
    for (const c of closers) await c();
    await w.close();
  }
}
