// The per-borrower nullifier: HMAC-SHA-256 under an enclave secret of the identity established by provenance, so
// the store can count queries per borrower across lenders without learning (or being able to test) who it is.
import { createHmac } from 'node:crypto';
import { toHex, type Hex } from '../../protocol/index.ts';

export function keyedNullifier(key: Uint8Array, borrowerIdentity: string): Hex {
  return toHex(createHmac('sha256', key).update('props.nullifier.v1\0').update(borrowerIdentity).digest());
}
