// The registry's governance side of the chain client: auditors, quorum, pipelines and app approvals.
import type { Address, Hex } from 'viem';
import { pipelineId as computePipelineId, type Manifest } from '../protocol/index.ts';
import { propsRegistryAbi } from './abi.ts';
import type { ChainContext } from './client-context.ts';

export type PipelineFields = { codeHash: Hex; modelHash: Hex; policyHash: Hex; platform: Manifest['platform'] };

/** Governance and pipeline writes (the registry owner's). */
export function governanceMethods({ addresses, write }: ChainContext) {
  return {
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
  };
}

/** An app's approvals of pipelines, which the KMS consults before releasing the app's fleet secrets. */
export function appMethods({ addresses, publicClient, write, read }: ChainContext) {
  return {
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
  };
}
