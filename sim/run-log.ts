// The results' transparency log as the simulation's relayer sees it: one RFC 9162 leaf per verified result (leaf
// data = the EIP-712 struct hash the escrow recomputes), and the heads the enclave key posts on chain as checkpoints.
import { toHex, treeRoot, type Hex } from '../protocol/index.ts';
import type { World } from './world.ts';

export type Checkpoint = { treeSize: number; root: Hex };

export type ResultLog = {
  keyId: Hex;
  leaves: Uint8Array[];
  checkpoints: Checkpoint[];
  /** Fetch the service's head as a checkpoint, check it against the leaves seen so far, and post it on chain. */
  postCheckpoint(): Promise<void>;
};

export function createResultLog(w: World, serviceUrl: string, keyId: Hex): ResultLog {
  const leaves: Uint8Array[] = [];
  const checkpoints: Checkpoint[] = [];
  // The relayer asks the service for its head as a checkpoint for this registry (signed inside the enclave by its
  // on-chain key) and posts it: what an operator's relayer does in production.
  const postCheckpoint = async () => {
    const { chainId, verifyingContract } = w.gov.registryDomain();
    const cp = (await (
      await fetch(`${serviceUrl}/v1/log/checkpoint?chainId=${chainId}&registry=${verifyingContract}`)
    ).json()) as { keyId: Hex; publicKey: Hex; treeSize: number; root: Hex; signature: Hex };
    const { treeSize, root } = cp;
    if (cp.keyId !== keyId || treeSize !== leaves.length || root !== toHex(treeRoot(leaves)))
      throw new Error('service checkpoint does not match the results it returned');
    await w.relayer.postCheckpoint(cp.publicKey, BigInt(treeSize), root, cp.signature);
    checkpoints.push({ treeSize, root });
  };
  return { keyId, leaves, checkpoints, postCheckpoint };
}
