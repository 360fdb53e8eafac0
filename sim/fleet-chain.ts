// The fleet simulation's governance: a local chain with the contracts deployed, where the registry's owner registers
// each pipeline version and approves it for the app (the KMS replicas read these approvals at every release), and
// withdraws a version that is retired.
import {
  createPropsChainClient,
  deploy,
  startLocalChain,
  type LocalChain,
  type PropsChainClient,
} from '../contracts/index.ts';
import { computeCodeHash, loadPipelinePolicy, pipelinePolicyHash, REPO_ROOT } from '../enclave/index.ts';
import { appIdOf, type Hex } from '../protocol/index.ts';

export type FleetGovernance = {
  rpcUrl: string;
  registry: Hex;
  appId: Hex;
  /** Registers the pipeline `props serve --pipeline-policy FILE` of this checkout runs, approves it for the app. */
  approve(pipelinePolicyFile?: string): Promise<Hex>;
  withdraw(pipelineId: Hex): Promise<void>;
  close(): Promise<void>;
};

export async function startFleetGovernance(app: string): Promise<FleetGovernance> {
  const chain: LocalChain = await startLocalChain({ accounts: 2 });
  try {
    const privateKey = chain.privateKeys[0] as Hex;
    const dep = await deploy({ rpcUrl: chain.rpcUrl, privateKey, simulationAllowed: true });
    const gov: PropsChainClient = await createPropsChainClient({
      rpcUrl: chain.rpcUrl,
      privateKey,
      addresses: { token: dep.token, registry: dep.registry, escrow: dep.escrow },
    });
    const codeHash = computeCodeHash(REPO_ROOT).codeHash;
    const appId = appIdOf(app);
    return {
      rpcUrl: chain.rpcUrl,
      registry: dep.registry,
      appId,
      async approve(file) {
        const policy = loadPipelinePolicy(file);
        const pid = await gov.registerPipeline({
          codeHash,
          modelHash: policy.modelHash as Hex,
          policyHash: pipelinePolicyHash(policy),
          platform: 'sim',
        });
        await gov.approveAppPipeline(appId, pid);
        return pid;
      },
      async withdraw(pid) {
        await gov.withdrawAppPipeline(appId, pid);
      },
      close: () => chain.close(),
    };
  } catch (e) {
    await chain.close();
    throw e;
  }
}
