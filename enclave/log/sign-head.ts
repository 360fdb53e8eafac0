// A tree head as the enclave signs it: an ES256 JWS over the head's body by the evidence-bound key, and the on-chain
// key's signature over the checkpoint digest the escrow checks.
import {
  canonicalBytes,
  fromHex,
  TREE_HEAD_JWS_TYP,
  TREE_HEAD_TYP,
  treeHeadDigest,
  type Hex,
  type SignedTreeHead,
  type TreeHeadBody,
} from '../../protocol/index.ts';
import type { Enclave } from '../boot.ts';

export async function signTreeHead(
  enclave: Pick<Enclave, 'signJws' | 'keys'>,
  head: { treeSize: number; rootHash: Hex; timestamp: number },
): Promise<SignedTreeHead> {
  const { treeSize, rootHash, timestamp } = head;
  const body: TreeHeadBody = { v: 1, typ: TREE_HEAD_TYP, treeSize, rootHash, timestamp };
  const jws = await enclave.signJws(canonicalBytes(body), { typ: TREE_HEAD_JWS_TYP });
  const chainSignature = await enclave.keys.chainSigner.signDigest(
    fromHex(treeHeadDigest(treeSize, rootHash, timestamp), 32),
  );
  return { treeSize, rootHash, timestamp, jws, chainSignature };
}
