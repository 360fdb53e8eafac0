// One simulated world, shared by `props sim` and `props sim --attacks`: a local chain with the contracts, a 3-of-5
// auditor quorum, a sim enclave running the pinned model with results addressed to the escrow, its key registered,
// funded lenders, and the lenders' pinned verification policy.
import { createTestClient, http, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  chainKeyId,
  digestJson,
  keyRegistrationDigest,
  toHex,
  type ResultOutput,
  type Statement,
} from '../protocol/index.ts';
import {
  assessStatements,
  bootEnclave,
  commitInputs,
  createSimPlatform,
  DEFAULT_MODEL_PATH,
  loadModel,
  loadPipelinePolicy,
  systemRandom,
  type CreditModel,
  type Enclave,
} from '../enclave/index.ts';
import { loadDefaultPolicy, verifyEvidence, type Policy } from '../verifier/index.ts';
import {
  createPropsChainClient,
  deploy,
  startLocalChain,
  type Deployment,
  type LocalChain,
  type PropsChainClient,
} from '../contracts/index.ts';

export const random32 = (): Hex => toHex(systemRandom(32));
export const jobIdHex = (id: bigint): Hex => `0x${id.toString(16).padStart(64, '0')}`;
export const DATA_OWNER_AMOUNT = 700n;
export const OPERATOR_AMOUNT = 300n;

export type World = Awaited<ReturnType<typeof createWorld>>;

export async function createWorld(o: { lenders: number; log: (line: string) => void }) {
  const c = await startChain(o.lenders);
  o.log(`✓ contracts deployed — registry ${c.dep.registry}, escrow ${c.dep.escrow} (simulation allowed)`);
  const { gov, relayer, operator, dep, chain } = c;
  const { pipelinePolicy, model, bootSim } = await loadEnclaveParts(gov);
  const enclave = await bootSim();
  o.log(
    `✓ enclave booted — SIMULATED platform, model ${model.modelHash.slice(0, 12)}…, provider ${model.executionProvider}`,
  );
  const pid = await registerAuditorsAndPipeline(gov, c.auditorKeys, enclave);
  const auditorPolicy: Policy = loadDefaultPolicy();
  auditorPolicy.evidence.allowSimulated = true;
  const registerEnclave = enclaveRegistrar({ gov, relayer, pid, auditorKeys: c.auditorKeys, auditorPolicy });
  const lenders = await fundLenders(gov, c.client, c.lenderKeys);
  const lenderPolicy = lenderPolicyFor(enclave, gov.chainId, dep.escrow);
  const openJob = jobOpener(gov, pid, operator);
  const score = enclaveScorer(model);
  const testClient = createTestClient({ mode: 'anvil', transport: http(chain.rpcUrl) });

  async function advanceTime(seconds: number): Promise<void> {
    await testClient.increaseTime({ seconds });
    await testClient.mine({ blocks: 1 });
  }

  return {
    chain,
    dep,
    gov,
    relayer,
    operator,
    lenders,
    enclave,
    model,
    pid,
    auditorKeys: c.auditorKeys,
    auditorPolicy,
    lenderPolicy,
    pipelinePolicy,
    bootSim,
    registerEnclave,
    openJob,
    score,
    advanceTime,
    gasOf: async (hash: Hex) => Number((await gov.publicClient.getTransactionReceipt({ hash })).gasUsed),
    async close() {
      await model.release();
      await chain.close();
    },
  };
}

/** A local chain with the contracts deployed (simulation allowed) and the roles' keys and clients. */
async function startChain(lenders: number) {
  const chain: LocalChain = await startLocalChain({ accounts: 10 + lenders });
  const keys = chain.privateKeys;
  const [deployerKey, operatorKey, relayerKey] = [keys[0]!, keys[1]!, keys[2]!];
  const dep: Deployment = await deploy({ rpcUrl: chain.rpcUrl, privateKey: deployerKey, simulationAllowed: true });
  const addresses = { token: dep.token, registry: dep.registry, escrow: dep.escrow };
  const client = (privateKey: Hex) => createPropsChainClient({ rpcUrl: chain.rpcUrl, privateKey, addresses });
  return {
    chain,
    dep,
    client,
    gov: await client(deployerKey),
    relayer: await client(relayerKey),
    operator: privateKeyToAccount(operatorKey).address,
    auditorKeys: keys.slice(3, 8),
    lenderKeys: keys.slice(8, 8 + lenders),
  };
}

/** The pinned model and a way to boot sim enclaves running it, with results addressed to the escrow. */
async function loadEnclaveParts(gov: PropsChainClient) {
  const pipelinePolicy = loadPipelinePolicy();
  const model = await loadModel({
    path: DEFAULT_MODEL_PATH,
    expectedHash: pipelinePolicy.modelHash,
    executionProvider: 'cpu',
  });
  const bootSim = async (extra: { debug?: boolean } = {}): Promise<Enclave> =>
    bootEnclave({
      platform: await createSimPlatform({ debug: extra.debug ?? false }),
      model,
      pipelinePolicy,
      eip712Domain: gov.resultDomain(),
    });
  return { pipelinePolicy, model, bootSim };
}

/** Five auditors with a quorum of three, and the enclave's pipeline registered; returns the pipeline id. */
async function registerAuditorsAndPipeline(gov: PropsChainClient, auditorKeys: Hex[], enclave: Enclave): Promise<Hex> {
  for (const k of auditorKeys) await gov.setAuditor(privateKeyToAccount(k).address, true);
  await gov.setQuorum(3);
  const m = enclave.manifest;
  return gov.registerPipeline({
    codeHash: m.codeHash as Hex,
    modelHash: m.modelHash as Hex,
    policyHash: m.policyHash as Hex,
    platform: m.platform,
  });
}

function enclaveRegistrar(w: {
  gov: PropsChainClient;
  relayer: PropsChainClient;
  pid: Hex;
  auditorKeys: Hex[];
  auditorPolicy: Policy;
}) {
  /** The auditors verify `e`'s evidence offline and `signers` of them sign its registration; returns the tx gas. */
  return async function registerEnclave(
    e: Enclave,
    opts: { signers?: number; ttlSeconds?: bigint } = {},
  ): Promise<{ keyId: Hex; gas: number }> {
    const { gov } = w;
    const report = await verifyEvidence(e.evidence, { policy: w.auditorPolicy, now: new Date(), manifest: e.manifest });
    if (!report.ok) throw new Error('auditors refused the enclave evidence');
    const keyId = chainKeyId(e.evidence.keys.chain.publicKey as Hex);
    const block = await gov.publicClient.getBlock();
    const reg = {
      pipelineId: w.pid,
      keyId,
      evidenceDigest: e.evidenceDigest,
      earDigest: digestJson('props/ear/v1', report.checks),
      expiresAt: block.timestamp + (opts.ttlSeconds ?? 30n * 86400n),
    };
    const digest = keyRegistrationDigest(gov.registryDomain(), reg);
    const approvals = await Promise.all(
      w.auditorKeys.slice(0, opts.signers ?? 3).map(async (k) => {
        const a = privateKeyToAccount(k);
        return { auditor: a.address, signature: await a.sign({ hash: digest }) };
      }),
    );
    const hash = await w.relayer.registerKey(reg, approvals);
    return { keyId, gas: Number((await gov.publicClient.getTransactionReceipt({ hash })).gasUsed) };
  };
}

/** Lenders with tokens minted and the escrow approved to spend them. */
async function fundLenders(
  gov: PropsChainClient,
  client: (privateKey: Hex) => Promise<PropsChainClient>,
  lenderKeys: Hex[],
): Promise<PropsChainClient[]> {
  const lenders: PropsChainClient[] = [];
  for (const k of lenderKeys) {
    const c = await client(k);
    await gov.mint(c.account!, 10n ** 15n);
    await c.approveEscrow(2n ** 255n);
    lenders.push(c);
  }
  return lenders;
}

/** The lenders' policy: simulated evidence knowingly allowed, the enclave's hashes pinned, results for this escrow. */
function lenderPolicyFor(enclave: Enclave, chainId: number, escrow: Address): Policy {
  const m = enclave.manifest;
  const lenderPolicy: Policy = loadDefaultPolicy();
  lenderPolicy.evidence.allowSimulated = true;
  lenderPolicy.manifest = { codeHashes: [m.codeHash], modelHashes: [m.modelHash], policyHashes: [m.policyHash] };
  lenderPolicy.result.eip712Domains = [{ chainId, verifyingContract: escrow }];
  return lenderPolicy;
}

function jobOpener(gov: PropsChainClient, pid: Hex, operator: Address) {
  /** A lender opens an escrow job paying for the scoring of `inputCommitment` (the inputs its consent names). */
  return async function openJob(
    lender: PropsChainClient,
    inputCommitment: Hex,
    deadlineIn = 3600n,
  ): Promise<{ jobId: bigint; nonce: Hex; dataOwner: Address }> {
    const nonce = random32();
    const dataOwner = privateKeyToAccount(random32()).address;
    const deadline = (await gov.publicClient.getBlock()).timestamp + deadlineIn;
    const jobId = await lender.openJob({
      pipelineId: pid,
      nonce,
      inputCommitment,
      dataOwner,
      dataOwnerAmount: DATA_OWNER_AMOUNT,
      operator,
      operatorAmount: OPERATOR_AMOUNT,
      deadline,
    });
    return { jobId, nonce, dataOwner };
  };
}

function enclaveScorer(model: CreditModel) {
  /** The enclave's scoring step: one batched inference, then the signed result naming the escrow job. */
  return async function score(
    e: Enclave,
    statement: Statement,
    job: { jobId: bigint; nonce: Hex },
    threshold: number,
    consentRef: Hex,
    inputCommitment: Hex = commitInputs(statement),
  ): Promise<{ output: ResultOutput; attestation: Awaited<ReturnType<Enclave['signResult']>> }> {
    const [assessment] = await assessStatements(model, [statement], threshold);
    const output = assessment!.output;
    const attestation = await e.signResult(
      { requestId: jobIdHex(job.jobId), nonce: job.nonce, consentRef },
      output,
      inputCommitment,
    );
    return { output, attestation };
  };
}
