// contracts: the Props registry and escrow from TypeScript — typed ABIs, deployment, the embedded local chain
// (anvil) and a viem client. Solidity sources and Foundry tests live beside this in src/ and test/.
export { propsEscrowAbi, propsRegistryAbi, propsTokenAbi } from './abi.ts';
export { chainError, type ChainAddresses, type ChainConnectParameters } from './client-context.ts';
export { escrowCallAbi, type Job, type JobTerms, type LogProof } from './client-escrow.ts';
export type { AuditorApproval, EnclaveKeyRecord } from './client-keys.ts';
export type { PipelineFields } from './client-registry.ts';
export { createPropsChainClient, type PropsChainClient } from './client.ts';
export { deploy, type DeployParameters, type Deployment } from './deploy.ts';
export {
  ANVIL_MNEMONIC,
  LOCAL_CHAIN_ID,
  devPrivateKeys,
  resolveAnvil,
  resolveFoundryBinary,
  startLocalChain,
  type LocalChain,
  type StartLocalChainParameters,
} from './local.ts';
export { publicKeyP256, signDigestP256, splitPublicKey, splitSignature } from './p256.ts';
