// Integration tests against a real anvil (Osaka, P256VERIFY precompile): the TypeScript protocol and the Solidity
// contracts agree on every EIP-712 digest; register → open → release pays; refunds; and each attack is refused.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClient, encodeAbiParameters, hashTypedData, http, keccak256, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  RESULT_TYPES,
  checkpointDigest,
  chainKeyId,
  fromHex,
  keyRegistrationDigest,
  leafHash,
  inclusionProof,
  resultStructHash,
  toHex,
  toTypedDataDomain,
  treeRoot,
  type Eip712DomainValue,
  type ResultMessage,
} from '../protocol/index.ts';
import {
  createPropsChainClient,
  deploy,
  publicKeyP256,
  signDigestP256,
  startLocalChain,
  type Deployment,
  type LocalChain,
  type PropsChainClient,
} from './index.ts';

const hex32 = (n: number | bigint): Hex => `0x${BigInt(n).toString(16).padStart(64, '0')}`;
const randomHex32 = (): Hex => toHex(crypto.getRandomValues(new Uint8Array(32)));

let chain: LocalChain;
let dep: Deployment;
let gov: PropsChainClient; // governance + deployer
let lender: PropsChainClient;
let relayer: PropsChainClient; // anyone: posts checkpoints, triggers releases
let pipelineId: Hex;
let dataOwner: Address;
let operator: Address;
const auditorKeys: Hex[] = [];

type Enclave = { privateKey: KeyObject; publicKey: Hex; keyId: Hex };
function newEnclave(): Enclave {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKey = publicKeyP256(privateKey);
  return { privateKey, publicKey, keyId: chainKeyId(publicKey) };
}

async function registerEnclave(e: Enclave, auditors = auditorKeys.slice(0, 3)): Promise<void> {
  const reg = {
    pipelineId,
    keyId: e.keyId,
    evidenceDigest: randomHex32(),
    earDigest: randomHex32(),
    expiresAt: BigInt(Math.floor(Date.now() / 1000) + 30 * 86400),
  };
  const digest = keyRegistrationDigest(gov.registryDomain(), reg);
  const approvals = await Promise.all(
    auditors.map(async (k) => {
      const a = privateKeyToAccount(k);
      return { auditor: a.address, signature: await a.sign({ hash: digest }) };
    }),
  );
  await relayer.registerKey(reg, approvals);
}

async function deadlineIn(seconds: number): Promise<bigint> {
  const block = await gov.publicClient.getBlock();
  return block.timestamp + BigInt(seconds);
}

// The inputs the test lender's jobs pay to have scored (the input commitment its borrower's consent names).
const INPUTS = randomHex32();

async function openJob(amounts: [bigint, bigint] = [700n, 300n]): Promise<{ jobId: bigint; nonce: Hex }> {
  const nonce = randomHex32();
  const jobId = await lender.openJob({
    pipelineId,
    nonce,
    inputCommitment: INPUTS,
    dataOwner,
    dataOwnerAmount: amounts[0],
    operator,
    operatorAmount: amounts[1],
    deadline: await deadlineIn(3600),
  });
  return { jobId, nonce };
}

function resultFor(jobId: bigint, nonce: Hex, score = 712): ResultMessage {
  return {
    requestId: hex32(jobId),
    nonce,
    pipelineId,
    resultHash: randomHex32(),
    inputCommitment: INPUTS,
    score,
    approved: score >= 650,
    issuedAt: BigInt(Math.floor(Date.now() / 1000)),
  };
}

function signResult(e: Enclave, result: ResultMessage, domain: Eip712DomainValue): Hex {
  const digest = hashTypedData({
    domain: toTypedDataDomain(domain),
    types: RESULT_TYPES,
    primaryType: 'PropsResult',
    message: result,
  });
  return signDigestP256(e.privateKey, digest);
}

beforeAll(async () => {
  chain = await startLocalChain();
  const [deployerKey, lenderKey, relayerKey, ...rest] = chain.privateKeys;
  auditorKeys.push(...rest.slice(0, 5));
  dep = await deploy({ rpcUrl: chain.rpcUrl, privateKey: deployerKey!, simulationAllowed: true });
  const addresses = { token: dep.token, registry: dep.registry, escrow: dep.escrow };
  gov = await createPropsChainClient({ rpcUrl: chain.rpcUrl, privateKey: deployerKey!, addresses });
  lender = await createPropsChainClient({ rpcUrl: chain.rpcUrl, privateKey: lenderKey!, addresses });
  relayer = await createPropsChainClient({ rpcUrl: chain.rpcUrl, privateKey: relayerKey!, addresses });
  dataOwner = privateKeyToAccount(randomHex32()).address;
  operator = privateKeyToAccount(randomHex32()).address;
  for (const k of auditorKeys) await gov.setAuditor(privateKeyToAccount(k).address, true);
  await gov.setQuorum(3);
  pipelineId = await gov.registerPipeline({
    codeHash: randomHex32(),
    modelHash: randomHex32(),
    policyHash: randomHex32(),
    platform: 'sim',
  });
  await gov.mint(lender.account!, 10n ** 12n);
  await lender.approveEscrow(2n ** 256n - 1n);
});

afterAll(async () => {
  await chain?.close();
});

describe('TypeScript and Solidity compute the same EIP-712 digests', () => {
  it('result struct hash and digest', async () => {
    const r = resultFor(42n, randomHex32());
    expect(await gov.hashResultOnChain(r)).toBe(resultStructHash(r));
    const digest = hashTypedData({
      domain: toTypedDataDomain(gov.resultDomain()),
      types: RESULT_TYPES,
      primaryType: 'PropsResult',
      message: r,
    });
    expect(await gov.resultDigestOnChain(r)).toBe(digest);
  });

  it('checkpoint and key-registration digests', async () => {
    const m = { keyId: randomHex32(), treeSize: 17n, root: randomHex32() };
    const onChain = await gov.publicClient.readContract({
      address: dep.registry,
      abi: (await import('./abi.ts')).propsRegistryAbi,
      functionName: 'checkpointDigest',
      args: [m.keyId, m.treeSize, m.root],
    });
    expect(onChain).toBe(checkpointDigest(gov.registryDomain(), m));
    const reg = { pipelineId, keyId: m.keyId, evidenceDigest: randomHex32(), earDigest: randomHex32(), expiresAt: 99n };
    const regOnChain = await gov.publicClient.readContract({
      address: dep.registry,
      abi: (await import('./abi.ts')).propsRegistryAbi,
      functionName: 'keyRegistrationDigest',
      args: [reg],
    });
    expect(regOnChain).toBe(keyRegistrationDigest(gov.registryDomain(), reg));
  });
});

describe('register → open → release', () => {
  const enclave = newEnclave();
  beforeAll(async () => registerEnclave(enclave));

  it('pays the data owner and the operator for a signed result, once', async () => {
    const { jobId, nonce } = await openJob();
    const result = resultFor(jobId, nonce);
    const before = [await gov.balanceOf(dataOwner), await gov.balanceOf(operator)];
    const sig = signResult(enclave, result, relayer.resultDomain());
    await relayer.release(jobId, result, enclave.publicKey, sig);
    expect(await gov.balanceOf(dataOwner)).toBe(before[0]! + 700n);
    expect(await gov.balanceOf(operator)).toBe(before[1]! + 300n);
    expect((await gov.getJob(jobId)).status).toBe('released');
    await expect(relayer.release(jobId, result, enclave.publicKey, sig)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'EscrowJobNotOpen',
    });
  });

  it('pays a batch of results through one checkpoint and inclusion proofs', async () => {
    const jobs = [];
    for (let i = 0; i < 7; i++) jobs.push(await openJob()); // 7 leaves: a ragged tree, every proof shape
    const results = jobs.map(({ jobId, nonce }) => resultFor(jobId, nonce));
    const leaves = results.map((r) => leafHash(fromHex(resultStructHash(r))));
    const root = toHex(treeRoot(leaves));
    const head = { keyId: enclave.keyId, treeSize: 7n, root };
    await relayer.postCheckpoint(
      enclave.publicKey,
      7n,
      root,
      signDigestP256(enclave.privateKey, checkpointDigest(gov.registryDomain(), head)),
    );
    expect(await gov.getHead(enclave.keyId)).toEqual({ treeSize: 7n, root });
    const before = await gov.balanceOf(dataOwner);
    for (const [i, { jobId }] of jobs.entries()) {
      const path = inclusionProof(leaves, i).map(toHex);
      await relayer.releaseWithProof(jobId, results[i]!, { ...head, leafIndex: BigInt(i), path });
    }
    expect(await gov.balanceOf(dataOwner)).toBe(before + 7n * 700n);
  });

  it('refuses a checkpoint rollback (the log only grows)', async () => {
    const head = { keyId: enclave.keyId, treeSize: 3n, root: randomHex32() };
    const sig = signDigestP256(enclave.privateKey, checkpointDigest(gov.registryDomain(), head));
    await expect(relayer.postCheckpoint(enclave.publicKey, 3n, head.root, sig)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'RegistryCheckpointNotGrowing',
    });
  });
});

describe('attacks on release', () => {
  const enclave = newEnclave();
  beforeAll(async () => registerEnclave(enclave));

  it('signature for another chain id is refused', async () => {
    const { jobId, nonce } = await openJob();
    const result = resultFor(jobId, nonce);
    const sig = signResult(enclave, result, { ...relayer.resultDomain(), chainId: 1 });
    await expect(relayer.release(jobId, result, enclave.publicKey, sig)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'EscrowSignatureInvalid',
    });
  });

  it('signature for another contract is refused', async () => {
    const { jobId, nonce } = await openJob();
    const result = resultFor(jobId, nonce);
    const sig = signResult(enclave, result, { ...relayer.resultDomain(), verifyingContract: dep.registry });
    await expect(relayer.release(jobId, result, enclave.publicKey, sig)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'EscrowSignatureInvalid',
    });
  });

  it("attack: another lender's result for the same inputs, naming this job's public id and the nonce hash it published, is refused", async () => {
    const { jobId, nonce } = await openJob();
    // On chain the job keeps (and JobOpened shows) only the nonce's hash; the nonce is the lender's and the enclave's.
    const published = keccak256(nonce);
    const terms = keccak256(
      encodeAbiParameters(
        [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
        [pipelineId, published, INPUTS],
      ),
    );
    expect((await gov.getJob(jobId)).terms).toBe(terms);
    const squatted = resultFor(jobId, published);
    await expect(
      relayer.release(jobId, squatted, enclave.publicKey, signResult(enclave, squatted, relayer.resultDomain())),
    ).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'EscrowTermsMismatch',
    });
    const own = resultFor(jobId, nonce);
    await relayer.release(jobId, own, enclave.publicKey, signResult(enclave, own, relayer.resultDomain()));
    expect((await gov.getJob(jobId)).status).toBe('released');
  });

  it("attack: a result for another borrower's inputs, naming this job's public id and nonce, is refused", async () => {
    const { jobId, nonce } = await openJob();
    const result = { ...resultFor(jobId, nonce), inputCommitment: randomHex32() };
    const sig = signResult(enclave, result, relayer.resultDomain());
    await expect(relayer.release(jobId, result, enclave.publicKey, sig)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'EscrowTermsMismatch',
    });
  });

  it('result for another job is refused', async () => {
    const a = await openJob();
    const b = await openJob();
    const result = resultFor(a.jobId, a.nonce);
    const sig = signResult(enclave, result, relayer.resultDomain());
    await expect(relayer.release(b.jobId, result, enclave.publicKey, sig)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'EscrowWrongJob',
    });
  });

  it('unregistered key is refused', async () => {
    const rogue = newEnclave();
    const { jobId, nonce } = await openJob();
    const result = resultFor(jobId, nonce);
    await expect(
      relayer.release(jobId, result, rogue.publicKey, signResult(rogue, result, relayer.resultDomain())),
    ).rejects.toMatchObject({ code: 'ERR_CHAIN_REVERTED', detail: 'RegistryKeyUnknown' });
  });

  it('proof against a checkpoint the registry never accepted is refused', async () => {
    const jobs = [await openJob(), await openJob(), await openJob()];
    const results = jobs.map(({ jobId, nonce }) => resultFor(jobId, nonce));
    const leaves = results.map((r) => leafHash(fromHex(resultStructHash(r))));
    const root = toHex(treeRoot(leaves)); // never posted
    await expect(
      relayer.releaseWithProof(jobs[1]!.jobId, results[1]!, {
        keyId: enclave.keyId,
        treeSize: 3n,
        root,
        leafIndex: 1n,
        path: inclusionProof(leaves, 1).map(toHex),
      }),
    ).rejects.toMatchObject({ code: 'ERR_CHAIN_REVERTED', detail: 'EscrowCheckpointUnknown' });
  });

  it('key registration below quorum is refused', async () => {
    await expect(registerEnclave(newEnclave(), auditorKeys.slice(0, 2))).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'RegistryQuorumNotMet',
    });
  });

  it('stale approval: one from an auditor since removed, sorting first, does not sink a registration that has a full quorum', async () => {
    // Four approvals; the auditor with the lowest address is then removed, so its signature would be the first the
    // registry checks. The other three still make the 3-of-5 quorum.
    const four = [...auditorKeys.slice(0, 4)].sort((a, b) =>
      BigInt(privateKeyToAccount(a).address) < BigInt(privateKeyToAccount(b).address) ? -1 : 1,
    );
    const removed = privateKeyToAccount(four[0]!).address;
    await gov.setAuditor(removed, false);
    try {
      const e = newEnclave();
      // Plus one approval that names an auditor it was not signed by, and a second one by the same auditor.
      const reg = {
        pipelineId,
        keyId: e.keyId,
        evidenceDigest: randomHex32(),
        earDigest: randomHex32(),
        expiresAt: BigInt(Math.floor(Date.now() / 1000) + 86400),
      };
      const digest = keyRegistrationDigest(gov.registryDomain(), reg);
      const approvals = await Promise.all(
        four.map(async (k) => ({
          auditor: privateKeyToAccount(k).address,
          signature: await privateKeyToAccount(k).sign({ hash: digest }),
        })),
      );
      const forged = { auditor: privateKeyToAccount(auditorKeys[4]!).address, signature: approvals[1]!.signature };
      await relayer.registerKey(reg, [forged, approvals[1]!, ...approvals]);
      expect(await gov.checkKey(e.keyId, pipelineId)).toEqual({ valid: true });
    } finally {
      await gov.setAuditor(removed, true);
    }
  });

  it('revoked key is refused', async () => {
    const { jobId, nonce } = await openJob();
    const result = resultFor(jobId, nonce);
    const sig = signResult(enclave, result, relayer.resultDomain());
    expect(await gov.checkKey(enclave.keyId, pipelineId)).toEqual({ valid: true });
    await gov.revokeKey(enclave.keyId);
    expect(await gov.checkKey(enclave.keyId, pipelineId)).toEqual({ valid: false, reason: 'RegistryKeyRevoked' });
    await expect(relayer.release(jobId, result, enclave.publicKey, sig)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'RegistryKeyRevoked',
    });
  });
});

describe("apps: which pipelines may receive an app's fleet secrets", () => {
  const newPipeline = (): Promise<Hex> =>
    gov.registerPipeline({
      codeHash: randomHex32(),
      modelHash: randomHex32(),
      policyHash: randomHex32(),
      platform: 'sim',
    });

  it('approval holds for that app only, until withdrawn or the pipeline is revoked', async () => {
    const pid = await newPipeline();
    const [app, otherApp] = [randomHex32(), randomHex32()];
    expect(await relayer.isAppPipelineApproved(app, pid)).toBe(false);
    await gov.approveAppPipeline(app, pid);
    expect(await relayer.isAppPipelineApproved(app, pid)).toBe(true);
    expect(await relayer.isAppPipelineApproved(otherApp, pid)).toBe(false);
    await expect(gov.approveAppPipeline(app, pid)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'RegistryAppPipelineExists',
    });

    await gov.withdrawAppPipeline(app, pid);
    expect(await relayer.isAppPipelineApproved(app, pid)).toBe(false);
    await expect(gov.withdrawAppPipeline(app, pid)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'RegistryAppPipelineNotApproved',
    });

    await gov.approveAppPipeline(app, pid);
    await gov.approveAppPipeline(otherApp, pid);
    await gov.revokePipeline(pid);
    expect(await relayer.isAppPipelineApproved(app, pid)).toBe(false);
    expect(await relayer.isAppPipelineApproved(otherApp, pid)).toBe(false);
    await expect(gov.approveAppPipeline(randomHex32(), pid)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'RegistryPipelineInactive',
    });
  });

  it('approving an unregistered pipeline is refused', async () => {
    const app = randomHex32();
    await expect(gov.approveAppPipeline(app, randomHex32())).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'RegistryPipelineUnknown',
    });
  });

  it('only governance approves or withdraws', async () => {
    const [app, pid] = [randomHex32(), await newPipeline()];
    await expect(relayer.approveAppPipeline(app, pid)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'OwnableUnauthorizedAccount',
    });
    await gov.approveAppPipeline(app, pid);
    await expect(relayer.withdrawAppPipeline(app, pid)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'OwnableUnauthorizedAccount',
    });
    expect(await relayer.isAppPipelineApproved(app, pid)).toBe(true);
  });
});

describe('refund', () => {
  it('returns the escrow to the lender after the deadline, and not before', async () => {
    const { jobId } = await openJob([1000n, 0n]);
    const before = await gov.balanceOf(lender.account!);
    await expect(relayer.refund(jobId)).rejects.toMatchObject({
      code: 'ERR_CHAIN_REVERTED',
      detail: 'EscrowDeadlineNotReached',
    });
    const test = createTestClient({ mode: 'anvil', transport: http(chain.rpcUrl) });
    await test.increaseTime({ seconds: 3601 });
    await test.mine({ blocks: 1 });
    await relayer.refund(jobId);
    expect(await gov.balanceOf(lender.account!)).toBe(before + 1000n);
    expect((await gov.getJob(jobId)).status).toBe('refunded');
  });

  it('a production registry refuses simulated pipelines', async () => {
    const prod = await deploy({ rpcUrl: chain.rpcUrl, privateKey: chain.privateKeys[0]!, simulationAllowed: false });
    const client = await createPropsChainClient({
      rpcUrl: chain.rpcUrl,
      privateKey: chain.privateKeys[0]!,
      addresses: prod,
    });
    await expect(
      client.registerPipeline({
        codeHash: randomHex32(),
        modelHash: randomHex32(),
        policyHash: randomHex32(),
        platform: 'sim',
      }),
    ).rejects.toMatchObject({ code: 'ERR_CHAIN_REVERTED', detail: 'RegistrySimulationNotAllowed' });
  });
});
