// The transparency log's signed tree head: the body the enclave's JWS key signs, the head as served, and the
// checkpoint digest its on-chain key signs. Verification lives in verifier/log.ts; the writer in enclave/log.
import { encodeAbiParameters, keccak256, toBytes } from 'viem';
import { z } from 'zod';
import type { Hex } from './bytes.ts';
import { hex32 } from './schemas.ts';

/** Domain tag of the checkpoint digest (hashed with keccak-256 into its first word). */
export const TREE_HEAD_TAG = 'props.sth.v1';
/** `typ` of a tree-head body. */
export const TREE_HEAD_TYP = 'props-sth';
/** JOSE `typ` header of the JWS over a tree-head body. */
export const TREE_HEAD_JWS_TYP = 'props-sth+jws';

const TREE_HEAD_TAG_HASH = keccak256(toBytes(TREE_HEAD_TAG));

/** Checkpoint digest the on-chain key signs: keccak256(abi.encode(keccak256("props.sth.v1"), size, root, timestamp)). */
export function treeHeadDigest(treeSize: number, rootHash: Hex, timestamp: number): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint64' }, { type: 'bytes32' }, { type: 'uint64' }],
      [TREE_HEAD_TAG_HASH, BigInt(treeSize), rootHash, BigInt(timestamp)],
    ),
  );
}

/** The statement the JWS signs (canonical JSON). */
export const treeHeadBody = z.strictObject({
  v: z.literal(1),
  typ: z.literal(TREE_HEAD_TYP),
  treeSize: z.number().int().nonnegative(),
  rootHash: hex32,
  timestamp: z.number().int().nonnegative(),
});
export type TreeHeadBody = z.infer<typeof treeHeadBody>;

/** A signed tree head as served: the fields, the compact JWS over their body, and the P-256 checkpoint signature. */
export const signedTreeHead = z.strictObject({
  treeSize: z.number().int().nonnegative(),
  rootHash: hex32,
  timestamp: z.number().int().nonnegative(),
  jws: z.string().max(4096),
  chainSignature: z.string().regex(/^0x[0-9a-f]{128}$/),
});
export type SignedTreeHead = z.infer<typeof signedTreeHead>;
