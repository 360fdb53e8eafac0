// The typed chain client: deploy the Props contracts and drive them through viem. Every revert comes back as a
// PropsError ERR_CHAIN_REVERTED whose detail is the contract's custom error name (e.g. "RegistryKeyRevoked").
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeEventLog,
  defineChain,
  http,
  isAddressEqual,
  keccak256,
  recoverAddress,
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
  type Chain,
  type Transport,
  type Account,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  PropsError,
  chainKeyId,
  keyRegistrationDigest,
  pipelineId as computePipelineId,
  propsDomain,
  type Eip712DomainValue,
  type KeyRegistrationMessage,
  type Manifest,
  type ResultMessage,
} from '../protocol/index.ts';
import { propsEscrowAbi, propsRegistryAbi, propsTokenAbi } from './abi.ts';
import { propsEscrowBytecode, propsRegistryBytecode, propsTokenBytecode } from './bytecode.ts';
import { splitPublicKey, splitSignature } from './p256.ts';

export type ChainAddresses = { token: Address; registry: Address; escrow: Address };

// Registry errors surface through the escrow's calls; decoding needs them in the escrow's ABI too.
const registryErrors = propsRegistryAbi.filter((item) => item.type === 'error');
const tokenErrors = propsTokenAbi.filter((item) => item.type === 'error');
export const escrowCallAbi = [...propsEscrowAbi, ...registryErrors, ...tokenErrors] as const;

export type ChainConnectParameters = {
  rpcUrl: string;
  /** Sender of transactions; reads work without one. */
  privateKey?: Hex;
  /** Expected chain id; checked against the endpoint when given. */
  chainId?: number;
};

type Clients = { publicClient: PublicClient<Transport, Chain>; walletClient?: WalletClient<Transport, Chain, Account> };

async function connect(params: ChainConnectParameters): Promise<Clients & { chainId: number }> {
  let chainId: number;
  const probe = createPublicClient({ transport: http(params.rpcUrl, { retryCount: 0 }) });
  try {
    chainId = await probe.getChainId();
  } catch (e) {
    throw new PropsError('ERR_CHAIN_UNREACHABLE', { cause: e });
  }
  if (params.chainId !== undefined && params.chainId !== chainId) {
    throw new PropsError('ERR_CHAIN_CONFIG_INVALID', { detail: 'endpoint chain id differs from the expected one' });
  }
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [params.rpcUrl] } },
  });
  const transport = http(params.rpcUrl, { retryCount: 0 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient<Transport, Chain>;
  const walletClient = params.privateKey
    ? createWalletClient({ chain, transport, account: privateKeyToAccount(params.privateKey) })
    : undefined;
  return walletClient ? { publicClient, walletClient, chainId } : { publicClient, chainId };
}

/** Turn a viem failure into a coded PropsError naming the contract's custom error. */
export function chainError(e: unknown): PropsError {
  if (e instanceof PropsError) return e;
  if (e instanceof BaseError) {
    const reverted = e.walk((err) => err instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const name = reverted.data?.errorName ?? (reverted.signature ? `unknown error ${reverted.signature}` : 'revert');
      return new PropsError('ERR_CHAIN_REVERTED', { detail: name, cause: e });
    }
    if (e.walk((err) => (err as { name?: string }).name === 'HttpRequestError')) {
      return new PropsError('ERR_CHAIN_UNREACHABLE', { cause: e });
    }
  }
  return new PropsError('ERR_CHAIN_REVERTED', { detail: 'transaction failed', cause: e });
}

export type DeployParameters = ChainConnectParameters & {
  privateKey: Hex;
  /** Whether simulated-platform pipelines may be registered. Never true on a production network. */
  simulationAllowed: boolean;
  /** Registry owner (revokes keys and pipelines); the deployer by default. */
  governance?: Address;
};

export type Deployment = ChainAddresses & {
  chainId: number;
  deployer: Address;
  governance: Address;
  simulationAllowed: boolean;
};

/** Deploy token, registry and escrow; returns their addresses. */
export async function deploy(params: DeployParameters): Promise<Deployment> {
  const { publicClient, walletClient, chainId } = await connect(params);
  if (!walletClient) throw new PropsError('ERR_CHAIN_CONFIG_INVALID', { detail: 'deploy needs a private key' });
  const deployer = walletClient.account.address;
  const governance = params.governance ?? deployer;
  const created = async (hash: Hex): Promise<Address> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success' || !receipt.contractAddress) {
      throw new PropsError('ERR_CHAIN_REVERTED', { detail: 'deployment failed' });
    }
    return receipt.contractAddress;
  };
  try {
    const token = await created(
      await walletClient.deployContract({ abi: propsTokenAbi, bytecode: propsTokenBytecode }),
    );
    const registry = await created(
      await walletClient.deployContract({
        abi: propsRegistryAbi,
        bytecode: propsRegistryBytecode,
        args: [governance, params.simulationAllowed],
      }),
    );
    const escrow = await created(
      await walletClient.deployContract({
        abi: propsEscrowAbi,
        bytecode: propsEscrowBytecode,
        args: [token, registry],
      }),
    );
    return { token, registry, escrow, chainId, deployer, governance, simulationAllowed: params.simulationAllowed };
  } catch (e) {
    throw chainError(e);
  }
}

export type PipelineFields = { codeHash: Hex; modelHash: Hex; policyHash: Hex; platform: Manifest['platform'] };
export type AuditorApproval = { auditor: Address; signature: Hex };
export type JobTerms = {
  pipelineId: Hex;
  /** The lender's secret nonce: only its hash goes on chain (`open` takes `keccak256(nonce)`); the enclave gets the nonce. */
  nonce: Hex;
  /** The inputs the job pays to have scored (the input commitment the borrower's consent names): a result for other inputs does not release it. */
  inputCommitment: Hex;
  dataOwner: Address;
  dataOwnerAmount: bigint;
  operator: Address;
  operatorAmount: bigint;
  deadline: bigint;
};
/** A job as stored: pipeline, nonce and inputs are kept only as `terms = keccak256(abi.encode(pipelineId, keccak256(nonce), inputCommitment))`. */
export type Job = {
  lender: Address;
  deadline: bigint;
  status: 'none' | 'open' | 'released' | 'refunded';
  dataOwner: Address;
  dataOwnerAmount: bigint;
  operator: Address;
  operatorAmount: bigint;
  terms: Hex;
};
export type LogProof = { keyId: Hex; treeSize: bigint; root: Hex; leafIndex: bigint; path: readonly Hex[] };
export type EnclaveKeyRecord = {
  pipelineId: Hex;
  evidenceDigest: Hex;
  registeredAt: bigint;
  expiresAt: bigint;
  revoked: boolean;
};

const STATUS = ['none', 'open', 'released', 'refunded'] as const;

export type PropsChainClient = Awaited<ReturnType<typeof createPropsChainClient>>;

/** A client bound to one deployment. Writes wait for their receipt and throw coded errors on revert. */
export async function createPropsChainClient(params: ChainConnectParameters & { addresses: ChainAddresses }) {
  const { publicClient, walletClient, chainId } = await connect(params);
  const { addresses } = params;

  const wallet = (): WalletClient<Transport, Chain, Account> => {
    if (!walletClient) throw new PropsError('ERR_CHAIN_CONFIG_INVALID', { detail: 'this action needs a private key' });
    return walletClient;
  };

  // Writes from one client go out one at a time: concurrent sends from one account would race for its nonce.
  let queue: Promise<unknown> = Promise.resolve();
  const write = (request: Parameters<PublicClient['simulateContract']>[0]): Promise<Hex> => {
    const next = queue.then(() => send(request));
    queue = next.catch(() => undefined);
    return next;
  };

  // Simulate first (so reverts decode by name), then send and wait for the receipt.
  const send = async (request: Parameters<PublicClient['simulateContract']>[0]): Promise<Hex> => {
    try {
      const w = wallet();
      const { request: req } = await publicClient.simulateContract({ ...request, account: w.account } as never);
      const hash = await w.writeContract(req as never);
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new PropsError('ERR_CHAIN_REVERTED', { detail: 'transaction reverted' });
      return hash;
    } catch (e) {
      throw chainError(e);
    }
  };

  const read = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      throw chainError(e);
    }
  };

  const domain = (verifyingContract: Address): Eip712DomainValue => propsDomain(chainId, verifyingContract);

  return {
    chainId,
    addresses,
    publicClient,
    account: walletClient?.account.address,
    /** EIP-712 domain of results (verifyingContract = escrow). */
    resultDomain: (): Eip712DomainValue => domain(addresses.escrow),
    /** EIP-712 domain of key registrations and checkpoints (verifyingContract = registry). */
    registryDomain: (): Eip712DomainValue => domain(addresses.registry),

    // ------------------------------------------------------------ governance
    async setAuditor(auditor: Address, allowed: boolean): Promise<Hex> {
      return write({
        address: addresses.registry,
        abi: propsRegistryAbi,
        functionName: 'setAuditor',
        args: [auditor, allowed],
      });
    },
    async setQuorum(quorum: number): Promise<Hex> {
      return write({
        address: addresses.registry,
        abi: propsRegistryAbi,
        functionName: 'setQuorum',
        args: [BigInt(quorum)],
      });
    },
    async registerPipeline(p: PipelineFields): Promise<Hex> {
      await write({
        address: addresses.registry,
        abi: propsRegistryAbi,
        functionName: 'registerPipeline',
        args: [p.codeHash, p.modelHash, p.policyHash, p.platform],
      });
      return computePipelineId(p);
    },
    async revokePipeline(id: Hex): Promise<Hex> {
      return write({ address: addresses.registry, abi: propsRegistryAbi, functionName: 'revokePipeline', args: [id] });
    },
    async revokeKey(keyId: Hex): Promise<Hex> {
      return write({ address: addresses.registry, abi: propsRegistryAbi, functionName: 'revokeKey', args: [keyId] });
    },

    // ------------------------------------------------------------ apps
    /** Approve a registered, active pipeline for an app: the KMS may then release the app's fleet secrets to it. */
    async approveAppPipeline(appId: Hex, pipelineId: Hex): Promise<Hex> {
      return write({
        address: addresses.registry,
        abi: propsRegistryAbi,
        functionName: 'approveAppPipeline',
        args: [appId, pipelineId],
      });
    },
    /** Withdraw an app's approval of a pipeline; secrets already released are not taken back (rotate them). */
    async withdrawAppPipeline(appId: Hex, pipelineId: Hex): Promise<Hex> {
      return write({
        address: addresses.registry,
        abi: propsRegistryAbi,
        functionName: 'withdrawAppPipeline',
        args: [appId, pipelineId],
      });
    },
    /** Whether the app approves the pipeline now: approved, not withdrawn, and the pipeline still active. */
    async isAppPipelineApproved(appId: Hex, pipelineId: Hex): Promise<boolean> {
      return read(
        publicClient.readContract({
          address: addresses.registry,
          abi: propsRegistryAbi,
          functionName: 'isAppPipelineApproved',
          args: [appId, pipelineId],
        }),
      );
    },

    // ------------------------------------------------------------ keys and checkpoints
    /**
     * Register an enclave key with auditor approvals. The registry checks exactly its first `quorum` signatures, in
     * strictly ascending signer order, so one approval that does not count — signed by someone else than it names, by
     * an auditor since removed, or a second one by the same auditor — would sink a registration that still has a full
     * quorum. Only approvals that recover to a current auditor are sent, one per auditor, ascending, `quorum` of them;
     * with fewer, those there are (the registry refuses: RegistryQuorumNotMet).
     */
    async registerKey(reg: KeyRegistrationMessage, approvals: readonly AuditorApproval[]): Promise<Hex> {
      const digest = keyRegistrationDigest(domain(addresses.registry), reg);
      const [quorum, counted] = await Promise.all([
        read(publicClient.readContract({ address: addresses.registry, abi: propsRegistryAbi, functionName: 'quorum' })),
        Promise.all(
          approvals.map(async (a) => {
            const signer = await recoverAddress({ hash: digest, signature: a.signature }).catch(() => undefined);
            if (!signer || !isAddressEqual(signer, a.auditor)) return undefined;
            const allowed = await read(
              publicClient.readContract({
                address: addresses.registry,
                abi: propsRegistryAbi,
                functionName: 'isAuditor',
                args: [signer],
              }),
            );
            return allowed ? { signer, signature: a.signature } : undefined;
          }),
        ),
      ]);
      const bySigner = new Map<bigint, Hex>();
      for (const c of counted) if (c && !bySigner.has(BigInt(c.signer))) bySigner.set(BigInt(c.signer), c.signature);
      const sorted = [...bySigner.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).slice(0, Number(quorum));
      return write({
        address: addresses.registry,
        abi: propsRegistryAbi,
        functionName: 'registerKey',
        args: [reg, sorted.map(([, signature]) => signature)],
      });
    },
    /** Post a log head signed by the enclave key `publicKey` (0x04‖x‖y); `signature` is r‖s, low-s. */
    async postCheckpoint(publicKey: Hex, treeSize: bigint, root: Hex, signature: Hex): Promise<Hex> {
      const { qx, qy } = splitPublicKey(publicKey);
      const { r, s } = splitSignature(signature);
      return write({
        address: addresses.registry,
        abi: propsRegistryAbi,
        functionName: 'postCheckpoint',
        args: [qx, qy, treeSize, root, r, s],
      });
    },
    async getKey(keyId: Hex): Promise<EnclaveKeyRecord> {
      const [pid, evidenceDigest, registeredAt, expiresAt, revoked] = await read(
        publicClient.readContract({
          address: addresses.registry,
          abi: propsRegistryAbi,
          functionName: 'keys',
          args: [keyId],
        }),
      );
      return { pipelineId: pid, evidenceDigest, registeredAt, expiresAt, revoked };
    },
    /** Whether the registry would accept `keyId` for `pipelineId` now; otherwise the custom error's name. */
    async checkKey(keyId: Hex, pipelineId: Hex): Promise<{ valid: true } | { valid: false; reason: string }> {
      try {
        await publicClient.readContract({
          address: addresses.registry,
          abi: propsRegistryAbi,
          functionName: 'requireValidKey',
          args: [keyId, pipelineId],
        });
        return { valid: true };
      } catch (e) {
        const err = chainError(e);
        if (err.code !== 'ERR_CHAIN_REVERTED') throw err;
        return { valid: false, reason: err.detail ?? 'revert' };
      }
    },
    async getHead(keyId: Hex): Promise<{ treeSize: bigint; root: Hex }> {
      const [treeSize, root] = await read(
        publicClient.readContract({
          address: addresses.registry,
          abi: propsRegistryAbi,
          functionName: 'heads',
          args: [keyId],
        }),
      );
      return { treeSize, root };
    },

    // ------------------------------------------------------------ token
    async mint(to: Address, amount: bigint): Promise<Hex> {
      return write({ address: addresses.token, abi: propsTokenAbi, functionName: 'mint', args: [to, amount] });
    },
    async approveEscrow(amount: bigint): Promise<Hex> {
      return write({
        address: addresses.token,
        abi: propsTokenAbi,
        functionName: 'approve',
        args: [addresses.escrow, amount],
      });
    },
    async balanceOf(owner: Address): Promise<bigint> {
      return read(
        publicClient.readContract({
          address: addresses.token,
          abi: propsTokenAbi,
          functionName: 'balanceOf',
          args: [owner],
        }),
      );
    },

    // ------------------------------------------------------------ escrow
    /** Open a job; returns its id, which a result names as requestId = bytes32(jobId). */
    async openJob(t: JobTerms): Promise<bigint> {
      const hash = await write({
        address: addresses.escrow,
        abi: escrowCallAbi,
        functionName: 'open',
        // The nonce stays the lender's (and the enclave's) until a result reveals it at release: on chain, its hash.
        args: [
          t.pipelineId,
          keccak256(t.nonce),
          t.inputCommitment,
          t.dataOwner,
          t.dataOwnerAmount,
          t.operator,
          t.operatorAmount,
          t.deadline,
        ],
      });
      const receipt = await publicClient.getTransactionReceipt({ hash });
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== addresses.escrow.toLowerCase()) continue;
        const ev = decodeEventLog({ abi: propsEscrowAbi, data: log.data, topics: log.topics, strict: false });
        if (ev.eventName === 'JobOpened' && ev.args.jobId !== undefined) return ev.args.jobId;
      }
      throw new PropsError('ERR_CHAIN_REVERTED', { detail: 'JobOpened event missing' });
    },
    async getJob(jobId: bigint): Promise<Job> {
      const [lender, deadline, status, dataOwner, dataOwnerAmount, operator, operatorAmount, terms] = await read(
        publicClient.readContract({
          address: addresses.escrow,
          abi: propsEscrowAbi,
          functionName: 'jobs',
          args: [jobId],
        }),
      );
      return {
        lender,
        deadline,
        status: STATUS[status] ?? 'none',
        dataOwner,
        dataOwnerAmount,
        operator,
        operatorAmount,
        terms,
      };
    },
    /** Release against the enclave key's EIP-712 signature (r‖s over sha256(digest), low-s). */
    async release(jobId: bigint, result: ResultMessage, publicKey: Hex, signature: Hex): Promise<Hex> {
      const { qx, qy } = splitPublicKey(publicKey);
      const { r, s } = splitSignature(signature);
      return write({
        address: addresses.escrow,
        abi: escrowCallAbi,
        functionName: 'release',
        args: [jobId, result, qx, qy, r, s],
      });
    },
    /** Release against an inclusion proof in a checkpoint the registry accepted. */
    async releaseWithProof(jobId: bigint, result: ResultMessage, proof: LogProof): Promise<Hex> {
      return write({
        address: addresses.escrow,
        abi: escrowCallAbi,
        functionName: 'releaseWithProof',
        args: [jobId, result, { ...proof, path: [...proof.path] }],
      });
    },
    async refund(jobId: bigint): Promise<Hex> {
      return write({ address: addresses.escrow, abi: escrowCallAbi, functionName: 'refund', args: [jobId] });
    },
    /** The escrow's own EIP-712 struct hash of a result (for cross-checking protocol/eip712.ts). */
    async hashResultOnChain(result: ResultMessage): Promise<Hex> {
      return read(
        publicClient.readContract({
          address: addresses.escrow,
          abi: propsEscrowAbi,
          functionName: 'hashResult',
          args: [result],
        }),
      );
    },
    async resultDigestOnChain(result: ResultMessage): Promise<Hex> {
      return read(
        publicClient.readContract({
          address: addresses.escrow,
          abi: propsEscrowAbi,
          functionName: 'resultDigest',
          args: [result],
        }),
      );
    },
    keyIdOf: (publicKey: Hex): Hex => chainKeyId(publicKey),
  };
}
