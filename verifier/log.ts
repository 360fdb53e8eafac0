// Transparency-log checks: a result's leaf (the EIP-712 struct hash of its PropsResult message, so the escrow can
// release by inclusion proof), signed tree heads (ES256 JWS by the evidence-bound key plus a P-256 on-chain
// signature over a checkpoint digest), and RFC 9162 inclusion and consistency proofs.
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { z } from 'zod';
import {
  fromHex,
  hex32,
  parseJsonText,
  parseResultBody,
  parseWith,
  PropsError,
  resultLeafHash,
  signedTreeHead,
  toHex,
  TREE_HEAD_JWS_TYP,
  treeHeadBody,
  treeHeadDigest,
  verifyConsistency,
  verifyInclusion,
  type Evidence,
  type Hex,
  type ResultBody,
  type TreeHeadBody,
} from '../protocol/index.ts';
import { importP256, isLowS, verifyP256 } from './webcrypto.ts';

/** The RFC 9162 leaf hash of a result: SHA-256(0x00 || structHash) (defined with the batch format, in protocol). */
export { resultLeafHash };

/** Reads the signed statement of a result attestation's JWS without verifying it (verifyResult does that). */
export function resultBodyOfJws(jws: string): ResultBody {
  const payload = jws.split('.')[1] ?? '';
  return parseResultBody(parseJsonText(Buffer.from(payload, 'base64url').toString('utf8'), 16_384));
}

/** Verifies a signed tree head against the evidence-bound keys; returns its checked body. */
export async function verifySignedTreeHead(input: unknown, keys: Evidence['keys']): Promise<TreeHeadBody> {
  const sth = parseWith(signedTreeHead, input, 'ERR_LOG_HEAD_INVALID');
  let payload: Uint8Array;
  try {
    const header = decodeProtectedHeader(sth.jws);
    if (header.alg !== 'ES256' || header.kid !== keys.jws.kid || header.typ !== TREE_HEAD_JWS_TYP)
      throw new Error('header');
    const key = await importJWK({ ...keys.jws } as JWK, 'ES256');
    ({ payload } = await compactVerify(sth.jws, key, { algorithms: ['ES256'] }));
  } catch (cause) {
    throw new PropsError('ERR_LOG_HEAD_INVALID', { detail: 'jws', cause });
  }
  const body = parseWith(treeHeadBody, parseJsonText(new TextDecoder().decode(payload), 4096), 'ERR_LOG_HEAD_INVALID');
  if (body.treeSize !== sth.treeSize || body.rootHash !== sth.rootHash || body.timestamp !== sth.timestamp) {
    throw new PropsError('ERR_LOG_HEAD_INVALID', { detail: 'fields differ from the signed body' });
  }
  if (keys.chain.scheme !== 'p256') throw new PropsError('ERR_SIGNER_SCHEME_UNSUPPORTED');
  const sig = fromHex(sth.chainSignature);
  const chainKey = await importP256(fromHex(keys.chain.publicKey), 'ERR_LOG_HEAD_INVALID');
  const digest = fromHex(treeHeadDigest(body.treeSize, body.rootHash as Hex, body.timestamp), 32);
  if (!isLowS(sig) || !(await verifyP256(chainKey, sig, digest)))
    throw new PropsError('ERR_LOG_HEAD_INVALID', { detail: 'chain signature' });
  return body;
}

const hexList = z.array(hex32).max(64);

/** A result's log inclusion proof as an audit bundle carries it: the proof and the signed head it proves into. */
export const bundleLogProof = z.strictObject({
  type: z.literal('props-log-inclusion'),
  v: z.literal(1),
  requestId: hex32,
  index: z.number().int().nonnegative(),
  treeSize: z.number().int().positive(),
  leafHash: hex32,
  proof: hexList,
  signedTreeHead: z.unknown(),
});
export type BundleLogProof = z.infer<typeof bundleLogProof>;

/**
 * Checks a bundle's log proof for a result already verified: the head is signed by the evidence-bound keys, the
 * proof's leaf is this result's leaf, and it sits at `index` under the head's root. Returns the checked head.
 */
export async function verifyBundleLogProof(
  input: unknown,
  body: ResultBody | undefined,
  keys: Evidence['keys'],
): Promise<TreeHeadBody> {
  const lp = parseWith(bundleLogProof, input, 'ERR_BUNDLE_MALFORMED');
  if (!body || body.requestId !== lp.requestId)
    throw new PropsError('ERR_BUNDLE_MALFORMED', { detail: 'names no verified result of this bundle' });
  if (toHex(resultLeafHash(body)) !== lp.leafHash)
    throw new PropsError('ERR_LOG_INCLUSION_INVALID', { detail: 'leaf is not this result' });
  const head = await verifySignedTreeHead(lp.signedTreeHead, keys);
  if (head.treeSize !== lp.treeSize)
    throw new PropsError('ERR_LOG_INCLUSION_INVALID', { detail: 'tree size differs from the signed head' });
  verifyLogInclusion({
    leafHash: lp.leafHash as Hex,
    index: lp.index,
    treeSize: lp.treeSize,
    proof: lp.proof,
    rootHash: head.rootHash as Hex,
  });
  return head;
}

/** Checks that `leaf` (a leaf hash) sits at `index` in the tree of `treeSize` leaves with root `rootHash`. */
export function verifyLogInclusion(p: {
  leafHash: Hex;
  index: number;
  treeSize: number;
  proof: unknown;
  rootHash: Hex;
}): void {
  const proof = parseWith(hexList, p.proof, 'ERR_LOG_INCLUSION_INVALID').map((h) => fromHex(h, 32));
  if (!verifyInclusion(fromHex(p.leafHash, 32), p.index, p.treeSize, proof, fromHex(p.rootHash, 32))) {
    throw new PropsError('ERR_LOG_INCLUSION_INVALID');
  }
}

/** Checks that the tree (oldSize, oldRoot) is a prefix of (newSize, newRoot): the log never rewrote history. */
export function verifyLogConsistency(p: {
  oldSize: number;
  newSize: number;
  oldRoot: Hex;
  newRoot: Hex;
  proof: unknown;
}): void {
  const proof = parseWith(hexList, p.proof, 'ERR_LOG_CONSISTENCY_INVALID').map((h) => fromHex(h, 32));
  if (!verifyConsistency(p.oldSize, p.newSize, fromHex(p.oldRoot, 32), fromHex(p.newRoot, 32), proof)) {
    throw new PropsError('ERR_LOG_CONSISTENCY_INVALID');
  }
}
