// Batched result attestation: one signature per batch of results instead of one per result. The enclave signs a
// batch head — the RFC 9162 root over the batch's result leaves — and each result travels as its statement plus its
// inclusion proof under that head. The leaf is the transparency log's leaf for the result (SHA-256(0x00 ||
// EIP-712 struct hash)), so a batch is also a run of log leaves and the escrow releases it with a checkpoint
// inclusion proof (`releaseWithProof`) exactly as a singly signed result.
import { fromHex, toHex, type Hex } from './bytes.ts';
import { resultStructHashOf } from './eip712.ts';
import { leafHash, rootFromInclusionProof } from './merkle.ts';
import { assertVersion, parseWith } from './parse.ts';
import {
  BATCHED_RESULT_KIND,
  batchedResult,
  resultBatchHead,
  RESULT_VERSION,
  type BatchedResult,
  type ResultBatchHead,
  type ResultBody,
} from './schemas.ts';

export function isBatchedResult(input: unknown): boolean {
  return typeof input === 'object' && input !== null && (input as { kind?: unknown }).kind === BATCHED_RESULT_KIND;
}

export function parseBatchedResult(input: unknown): BatchedResult {
  assertVersion(input, 'version', [RESULT_VERSION]);
  return parseWith(batchedResult, input, 'ERR_RESULT_MALFORMED');
}

export function parseResultBatchHead(input: unknown): ResultBatchHead {
  assertVersion(input, 'v', [RESULT_VERSION]);
  return parseWith(resultBatchHead, input, 'ERR_RESULT_MALFORMED');
}

/** The leaf of a result in a batch and in the transparency log: SHA-256(0x00 || EIP-712 struct hash). */
export function resultLeafHash(body: ResultBody): Uint8Array {
  return leafHash(resultStructHashOf(body));
}

/** The batch root a result's inclusion proof implies, or undefined when the proof cannot fit a tree of `size`. */
export function batchRootOf(result: Pick<BatchedResult, 'body' | 'index' | 'path'>, size: number): Hex | undefined {
  const root = rootFromInclusionProof(
    resultLeafHash(result.body),
    result.index,
    size,
    result.path.map((p) => fromHex(p, 32)),
  );
  return root ? toHex(root) : undefined;
}
