// `props kms` with the chain client that reads app approvals from the registry (--chain-rpc), wired here because the
// enclave part does not load the contracts' client unless asked.
import { zeroAddress } from 'viem';
import { createPropsChainClient } from '../contracts/index.ts';
import { kmsCommandWith } from '../enclave/kms/cli.ts';

export const kmsCommand = kmsCommandWith({
  approvals: async ({ rpcUrl, registry }) => {
    const chain = await createPropsChainClient({
      rpcUrl,
      addresses: { registry, token: zeroAddress, escrow: zeroAddress },
    });
    return (app, pipelineId) => chain.isAppPipelineApproved(app, pipelineId);
  },
});
