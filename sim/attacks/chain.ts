// The chain and registry layers: releases the escrow must revert without paying anyone or closing the job, and
// registrations and checkpoints the registry must refuse. One table, since the two layers' scenarios interleave in
// the catalogue's order.
import { keccak256, type Hex } from 'viem';
import { chainKeyId, checkpointDigest, fromHex, resultMessage } from '../../protocol/index.ts';
import { commitInputs } from '../../enclave/index.ts';
import { deploy, createPropsChainClient } from '../../contracts/index.ts';
import { generateBorrowers } from '../bank/generator.ts';
import { random32, type World } from '../world.ts';
import { honest, mustNotPay, rejection, releaseWith, signUnderDomain, type AttackContext } from './context.ts';
import { bindScenarios, type Attempt, type Scenario, type ScenarioOn } from './types.ts';

type SimEnclave = Awaited<ReturnType<World['bootSim']>>;

const pubOf = (e: SimEnclave): Hex => e.evidence.keys.chain.publicKey as Hex;

/** A job of the lender scored by `signer`, released naming the signer's key: the release must not pay. */
async function releaseSignedBy(c: AttackContext, signer: SimEnclave): Promise<Attempt> {
  const job = await c.w.openJob(c.lender, commitInputs(c.statement));
  const { attestation } = await c.w.score(signer, c.statement, job, c.threshold, c.consentRef);
  return mustNotPay(c, job.jobId, () => releaseWith(c, job.jobId, attestation, pubOf(signer)));
}

async function unregisteredKey(c: AttackContext): Promise<Attempt> {
  return releaseSignedBy(c, await c.w.bootSim());
}

async function revokedKey(c: AttackContext): Promise<Attempt> {
  const second = await c.w.bootSim();
  const reg = await c.w.registerEnclave(second);
  await c.w.gov.revokeKey(reg.keyId);
  return releaseSignedBy(c, second);
}

async function wrongDomain(c: AttackContext): Promise<Attempt> {
  const h = await honest(c);
  const sig = await signUnderDomain(c, h.body, { ...h.attestation.eip712.domain, chainId: 1 });
  return mustNotPay(c, h.job.jobId, () => c.w.relayer.release(h.job.jobId, resultMessage(h.body), c.pub, sig));
}

async function resultForAnotherJob(c: AttackContext): Promise<Attempt> {
  const h = await honest(c);
  const other = await c.w.openJob(c.lender, commitInputs(c.statement));
  return mustNotPay(c, other.jobId, () => releaseWith(c, other.jobId, h.attestation, c.pub, h.body));
}

async function resultForAnotherBorrower(c: AttackContext): Promise<Attempt> {
  // Lender A's job pays for its borrower's inputs; lender B gets a result for its own borrower under A's job id
  // and (say, leaked) nonce and tries to release A's escrow with it.
  const job = await c.w.openJob(c.lender, commitInputs(c.statement));
  const [otherBorrower] = generateBorrowers('attacks-other', 1);
  const { attestation } = await c.w.score(c.w.enclave, otherBorrower!.statement, job, c.threshold, random32());
  return mustNotPay(c, job.jobId, () => releaseWith(c, job.jobId, attestation, c.pub));
}

async function anotherLendersResultNamingThisJob(c: AttackContext): Promise<Attempt> {
  // Lender B also holds the borrower's consent for these inputs, sees A's JobOpened and has its own scoring name
  // A's job: all it can put for the nonce is the hash A published, since A gave the nonce to the enclave alone.
  const job = await c.w.openJob(c.lender, commitInputs(c.statement));
  const published = { jobId: job.jobId, nonce: keccak256(job.nonce) };
  const { attestation } = await c.w.score(c.w.enclave, c.statement, published, c.threshold, random32());
  return mustNotPay(c, job.jobId, () => releaseWith(c, job.jobId, attestation, c.pub));
}

async function doubleRelease(c: AttackContext): Promise<Attempt> {
  const { gov, dep } = c.w;
  const h = await honest(c);
  await releaseWith(c, h.job.jobId, h.attestation, c.pub, h.body);
  const before = await gov.balanceOf(dep.escrow);
  const code = await rejection(() => releaseWith(c, h.job.jobId, h.attestation, c.pub, h.body));
  return { code, traceFree: (await gov.balanceOf(dep.escrow)) === before };
}

async function checkpointNeverAccepted(c: AttackContext): Promise<Attempt> {
  const h = await honest(c);
  return mustNotPay(c, h.job.jobId, () =>
    c.w.relayer.releaseWithProof(h.job.jobId, resultMessage(h.body), {
      keyId: c.keyId,
      treeSize: 1n,
      root: random32(),
      leafIndex: 0n,
      path: [],
    }),
  );
}

async function quorumNotMet({ w }: AttackContext): Promise<Attempt> {
  const e = await w.bootSim();
  const code = await rejection(() => w.registerEnclave(e, { signers: 2 }));
  return { code, traceFree: !(await w.gov.checkKey(chainKeyId(pubOf(e)), w.pid)).valid };
}

async function simulatedOnProductionRegistry({ w }: AttackContext): Promise<Attempt> {
  const key = w.chain.privateKeys[0]!;
  const prod = await deploy({ rpcUrl: w.chain.rpcUrl, privateKey: key, simulationAllowed: false });
  const client = await createPropsChainClient({
    rpcUrl: w.chain.rpcUrl,
    privateKey: key,
    addresses: { token: prod.token, registry: prod.registry, escrow: prod.escrow },
  });
  const m = w.enclave.manifest;
  return {
    code: await rejection(() =>
      client.registerPipeline({
        codeHash: m.codeHash as Hex,
        modelHash: m.modelHash as Hex,
        policyHash: m.policyHash as Hex,
        platform: 'sim',
      }),
    ),
  };
}

async function logRolledBack({ w, keyId, pub }: AttackContext): Promise<Attempt> {
  const post = async (size: bigint, root: Hex) =>
    w.relayer.postCheckpoint(
      pub,
      size,
      root,
      await w.enclave.keys.chainSigner.signDigest(
        fromHex(checkpointDigest(w.gov.registryDomain(), { keyId, treeSize: size, root }), 32),
      ),
    );
  await post(10n, random32());
  const head = await w.gov.getHead(keyId);
  const code = await rejection(() => post(5n, random32()));
  return { code, traceFree: (await w.gov.getHead(keyId)).treeSize === head.treeSize };
}

async function expiredRegistration(c: AttackContext): Promise<Attempt> {
  const shortLived = await c.w.bootSim();
  await c.w.registerEnclave(shortLived, { ttlSeconds: 120n });
  const job = await c.w.openJob(c.otherLender, commitInputs(c.statement), 86_400n);
  const { attestation } = await c.w.score(shortLived, c.statement, job, c.threshold, c.consentRef);
  await c.w.advanceTime(300);
  return mustNotPay(c, job.jobId, () => releaseWith(c, job.jobId, attestation, pubOf(shortLived)));
}

async function releaseAfterDeadline(c: AttackContext): Promise<Attempt> {
  const job = await c.w.openJob(c.lender, commitInputs(c.statement), 60n);
  const { attestation } = await c.w.score(c.w.enclave, c.statement, job, c.threshold, c.consentRef);
  await c.w.advanceTime(120);
  return mustNotPay(c, job.jobId, () => releaseWith(c, job.jobId, attestation, c.pub));
}

const CHAIN: ScenarioOn<AttackContext>[] = [
  {
    name: 'unregistered key (result signed by an enclave no auditor approved)',
    layer: 'chain',
    expected: 'RegistryKeyUnknown',
    run: unregisteredKey,
  },
  { name: 'revoked key', layer: 'chain', expected: 'RegistryKeyRevoked', run: revokedKey },
  {
    name: 'wrong EIP-712 domain (signature made for another chain)',
    layer: 'chain',
    expected: 'EscrowSignatureInvalid',
    run: wrongDomain,
  },
  {
    name: 'result for another job (valid result replayed against a second job)',
    layer: 'chain',
    expected: 'EscrowWrongJob',
    run: resultForAnotherJob,
  },
  {
    name: "result for another borrower's inputs (another lender's result naming this job's id and nonce)",
    layer: 'chain',
    expected: 'EscrowTermsMismatch',
    run: resultForAnotherBorrower,
  },
  {
    name: "another lender's result for the same borrower naming this job (its public id and the nonce hash in JobOpened)",
    layer: 'chain',
    expected: 'EscrowTermsMismatch',
    run: anotherLendersResultNamingThisJob,
  },
  { name: 'double release', layer: 'chain', expected: 'EscrowJobNotOpen', run: doubleRelease },
  {
    name: 'release against a checkpoint the registry never accepted',
    layer: 'chain',
    expected: 'EscrowCheckpointUnknown',
    run: checkpointNeverAccepted,
  },
  {
    name: 'auditor quorum not met (2 of 5 approvals)',
    layer: 'registry',
    expected: 'RegistryQuorumNotMet',
    run: quorumNotMet,
  },
  {
    name: 'simulated pipeline on a production registry',
    layer: 'registry',
    expected: 'RegistrySimulationNotAllowed',
    run: simulatedOnProductionRegistry,
  },
  {
    name: 'log rolled back (checkpoint smaller than the one on chain)',
    layer: 'registry',
    expected: 'RegistryCheckpointNotGrowing',
    run: logRolledBack,
  },
  { name: 'expired registration', layer: 'chain', expected: 'RegistryKeyExpired', run: expiredRegistration },
  { name: 'release after deadline', layer: 'chain', expected: 'EscrowDeadlinePassed', run: releaseAfterDeadline },
];

/** The chain and registry catalogue, in the order it runs. */
export const chainScenarios = (c: AttackContext): Scenario[] => bindScenarios(CHAIN, c);
