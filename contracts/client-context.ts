// What every part of the chain client shares: one connection (public and, with a key, wallet client), the
// deployment's addresses, and the write/read helpers that turn every revert into a coded PropsError.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { PropsError, propsDomain, type Eip712DomainValue } from '../protocol/index.ts';

export type ChainAddresses = { token: Address; registry: Address; escrow: Address };

export type ChainConnectParameters = {
  rpcUrl: string;
  /** Sender of transactions; reads work without one. */
  privateKey?: Hex;
  /** Expected chain id; checked against the endpoint when given. */
  chainId?: number;
};

type Clients = { publicClient: PublicClient<Transport, Chain>; walletClient?: WalletClient<Transport, Chain, Account> };

export async function connect(params: ChainConnectParameters): Promise<Clients & { chainId: number }> {
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

export type WriteRequest = Parameters<PublicClient['simulateContract']>[0];

/** One connected deployment, as the client's method groups see it. */
export type ChainContext = {
  chainId: number;
  addresses: ChainAddresses;
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account> | undefined;
  /** Send a contract call from the client's account and wait for its receipt; returns the transaction hash. */
  write: (request: WriteRequest) => Promise<Hex>;
  /** Await a read, coding its failure. */
  read: <T>(p: Promise<T>) => Promise<T>;
  /** The Props EIP-712 domain on this chain for a verifying contract. */
  domain: (verifyingContract: Address) => Eip712DomainValue;
};

/** Connect once and build the shared helpers. */
export async function connectChainContext(
  params: ChainConnectParameters & { addresses: ChainAddresses },
): Promise<ChainContext> {
  const { publicClient, walletClient, chainId } = await connect(params);

  const wallet = (): WalletClient<Transport, Chain, Account> => {
    if (!walletClient) throw new PropsError('ERR_CHAIN_CONFIG_INVALID', { detail: 'this action needs a private key' });
    return walletClient;
  };

  // Simulate first (so reverts decode by name), then send and wait for the receipt.
  const send = async (request: WriteRequest): Promise<Hex> => {
    try {
      const w = wallet();
      const { request: req } = await publicClient.simulateContract({ ...request, account: w.account });
      const hash = await w.writeContract(req);
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new PropsError('ERR_CHAIN_REVERTED', { detail: 'transaction reverted' });
      return hash;
    } catch (e) {
      throw chainError(e);
    }
  };

  // Writes from one client go out one at a time: concurrent sends from one account would race for its nonce.
  let queue: Promise<unknown> = Promise.resolve();
  const write = (request: WriteRequest): Promise<Hex> => {
    const next = queue.then(() => send(request));
    queue = next.catch(() => undefined);
    return next;
  };

  const read = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      throw chainError(e);
    }
  };

  return {
    chainId,
    addresses: params.addresses,
    publicClient,
    walletClient,
    write,
    read,
    domain: (verifyingContract) => propsDomain(chainId, verifyingContract),
  };
}
