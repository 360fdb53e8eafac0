// Deploy the Props contracts (token, registry, escrow) to a chain and report where they landed.
import type { Address, Hex } from 'viem';
import { PropsError } from '../protocol/index.ts';
import { propsEscrowAbi, propsRegistryAbi, propsTokenAbi } from './abi.ts';
import { propsEscrowBytecode, propsRegistryBytecode, propsTokenBytecode } from './bytecode.ts';
import { chainError, connect, type ChainAddresses, type ChainConnectParameters } from './client-context.ts';

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
