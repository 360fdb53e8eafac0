// The registry's enclave-key side of the chain client: key registration with auditor approvals, key status, and
// the signed log heads (checkpoints) each key posts.
import { isAddressEqual, recoverAddress, type Address, type Hex } from 'viem';
import { chainKeyId, keyRegistrationDigest, type KeyRegistrationMessage } from '../protocol/index.ts';
import { propsRegistryAbi } from './abi.ts';
import { chainError, type ChainContext } from './client-context.ts';
import { splitPublicKey, splitSignature } from './p256.ts';

export type AuditorApproval = { auditor: Address; signature: Hex };
export type EnclaveKeyRecord = {
  pipelineId: Hex;
  evidenceDigest: Hex;
  registeredAt: bigint;
  expiresAt: bigint;
  revoked: boolean;
};

/** Register, inspect and check enclave keys; post and read their log heads. */
export function keyMethods({ addresses, publicClient, write, read, domain }: ChainContext) {
  return {
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
    keyIdOf: (publicKey: Hex): Hex => chainKeyId(publicKey),
  };
}
