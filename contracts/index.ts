// contracts: the Props registry and escrow from TypeScript — typed ABIs, deployment, the embedded local chain
// (anvil) and a viem client. Solidity sources and Foundry tests live beside this in src/ and test/.
export { propsEscrowAbi, propsRegistryAbi, propsTokenAbi } from './abi.ts';
export {
  chainError,
  createPropsChainClient,
  deploy,
  escrowCallAbi,
  type AuditorApproval,
  type ChainAddresses,
  type ChainConnectParameters,
  type DeployParameters,
  type Deployment,
  type EnclaveKeyRecord,
  type Job,
  type JobTerms,
  type LogProof,
  type PipelineFields,
  type PropsChainClient,
} from './client.ts';
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
