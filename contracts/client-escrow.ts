// The escrow side of the chain client: open a job, release it against a signed result (directly or through a
// checkpointed log), refund it after its deadline, and the escrow's own result hashing for cross-checks.
import { decodeEventLog, keccak256, type Address, type Hex } from 'viem';
import { PropsError, type ResultMessage } from '../protocol/index.ts';
import { propsEscrowAbi, propsRegistryAbi, propsTokenAbi } from './abi.ts';
import type { ChainContext } from './client-context.ts';
import { splitPublicKey, splitSignature } from './p256.ts';

// Registry errors surface through the escrow's calls; decoding needs them in the escrow's ABI too.
const registryErrors = propsRegistryAbi.filter((item) => item.type === 'error');
const tokenErrors = propsTokenAbi.filter((item) => item.type === 'error');
export const escrowCallAbi = [...propsEscrowAbi, ...registryErrors, ...tokenErrors] as const;

export type JobTerms = {
  pipelineId: Hex;
  /** The lender's secret nonce: only its hash goes on chain (`open` takes `keccak256(nonce)`); the enclave gets the nonce. */
  nonce: Hex;
  /** The inputs the job pays to have scored (the input commitment the borrower's consent names): a result for other inputs does not release it. */
  inputCommitment: Hex;
  dataOwner: Address;
  dataOwnerAmount: bigint;
  operator: Address;
  operatorAmount: bigint;
  deadline: bigint;
};
/** A job as stored: pipeline, nonce and inputs are kept only as `terms = keccak256(abi.encode(pipelineId, keccak256(nonce), inputCommitment))`. */
export type Job = {
  lender: Address;
  deadline: bigint;
  status: 'none' | 'open' | 'released' | 'refunded';
  dataOwner: Address;
  dataOwnerAmount: bigint;
  operator: Address;
  operatorAmount: bigint;
  terms: Hex;
};
export type LogProof = { keyId: Hex; treeSize: bigint; root: Hex; leafIndex: bigint; path: readonly Hex[] };

const STATUS = ['none', 'open', 'released', 'refunded'] as const;

/** Open a job; read it back; refund it. */
export function jobMethods({ addresses, publicClient, write, read }: ChainContext) {
  return {
    /** Open a job; returns its id, which a result names as requestId = bytes32(jobId). */
    async openJob(t: JobTerms): Promise<bigint> {
      const hash = await write({
        address: addresses.escrow,
        abi: escrowCallAbi,
        functionName: 'open',
        // The nonce stays the lender's (and the enclave's) until a result reveals it at release: on chain, its hash.
        args: [
          t.pipelineId,
          keccak256(t.nonce),
          t.inputCommitment,
          t.dataOwner,
          t.dataOwnerAmount,
          t.operator,
          t.operatorAmount,
          t.deadline,
        ],
      });
      const receipt = await publicClient.getTransactionReceipt({ hash });
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== addresses.escrow.toLowerCase()) continue;
        const ev = decodeEventLog({ abi: propsEscrowAbi, data: log.data, topics: log.topics, strict: false });
        if (ev.eventName === 'JobOpened' && ev.args.jobId !== undefined) return ev.args.jobId;
      }
      throw new PropsError('ERR_CHAIN_REVERTED', { detail: 'JobOpened event missing' });
    },
    async getJob(jobId: bigint): Promise<Job> {
      const [lender, deadline, status, dataOwner, dataOwnerAmount, operator, operatorAmount, terms] = await read(
        publicClient.readContract({
          address: addresses.escrow,
          abi: propsEscrowAbi,
          functionName: 'jobs',
          args: [jobId],
        }),
      );
      return {
        lender,
        deadline,
        status: STATUS[status] ?? 'none',
        dataOwner,
        dataOwnerAmount,
        operator,
        operatorAmount,
        terms,
      };
    },
    async refund(jobId: bigint): Promise<Hex> {
      return write({ address: addresses.escrow, abi: escrowCallAbi, functionName: 'refund', args: [jobId] });
    },
  };
}

/** Release a job against a result, and the escrow's own hashing of results. */
export function releaseMethods({ addresses, publicClient, write, read }: ChainContext) {
  return {
    /** Release against the enclave key's EIP-712 signature (r‖s over sha256(digest), low-s). */
    async release(jobId: bigint, result: ResultMessage, publicKey: Hex, signature: Hex): Promise<Hex> {
      const { qx, qy } = splitPublicKey(publicKey);
      const { r, s } = splitSignature(signature);
      return write({
        address: addresses.escrow,
        abi: escrowCallAbi,
        functionName: 'release',
        args: [jobId, result, qx, qy, r, s],
      });
    },
    /** Release against an inclusion proof in a checkpoint the registry accepted. */
    async releaseWithProof(jobId: bigint, result: ResultMessage, proof: LogProof): Promise<Hex> {
      return write({
        address: addresses.escrow,
        abi: escrowCallAbi,
        functionName: 'releaseWithProof',
        args: [jobId, result, { ...proof, path: [...proof.path] }],
      });
    },
    /** The escrow's own EIP-712 struct hash of a result (for cross-checking protocol/eip712.ts). */
    async hashResultOnChain(result: ResultMessage): Promise<Hex> {
      return read(
        publicClient.readContract({
          address: addresses.escrow,
          abi: propsEscrowAbi,
          functionName: 'hashResult',
          args: [result],
        }),
      );
    },
    async resultDigestOnChain(result: ResultMessage): Promise<Hex> {
      return read(
        publicClient.readContract({
          address: addresses.escrow,
          abi: propsEscrowAbi,
          functionName: 'resultDigest',
          args: [result],
        }),
      );
    },
  };
}
