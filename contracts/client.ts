// The typed chain client: one connection to a Props deployment, assembled from per-contract method groups. Every
// revert comes back as a PropsError ERR_CHAIN_REVERTED whose detail is the contract's custom error name
// (e.g. "RegistryKeyRevoked").
import type { Eip712DomainValue } from '../protocol/index.ts';
import { connectChainContext, type ChainAddresses, type ChainConnectParameters } from './client-context.ts';
import { jobMethods, releaseMethods } from './client-escrow.ts';
import { keyMethods } from './client-keys.ts';
import { appMethods, governanceMethods } from './client-registry.ts';
import { tokenMethods } from './client-token.ts';

export type PropsChainClient = Awaited<ReturnType<typeof createPropsChainClient>>;

/** A client bound to one deployment. Writes wait for their receipt and throw coded errors on revert. */
export async function createPropsChainClient(params: ChainConnectParameters & { addresses: ChainAddresses }) {
  const ctx = await connectChainContext(params);
  const { chainId, addresses, publicClient, walletClient, domain } = ctx;
  return {
    chainId,
    addresses,
    publicClient,
    account: walletClient?.account.address,
    /** EIP-712 domain of results (verifyingContract = escrow). */
    resultDomain: (): Eip712DomainValue => domain(addresses.escrow),
    /** EIP-712 domain of key registrations and checkpoints (verifyingContract = registry). */
    registryDomain: (): Eip712DomainValue => domain(addresses.registry),
    ...governanceMethods(ctx),
    ...appMethods(ctx),
    ...keyMethods(ctx),
    ...tokenMethods(ctx),
    ...jobMethods(ctx),
    ...releaseMethods(ctx),
  };
}
