// EIP-712 types shared by the enclave (signer), the verifier and the contracts (PropsEscrow/PropsRegistry).
// The on-chain form of a result is a fixed-width struct; its `resultHash` commits to the full JWS payload.
import { domainSeparator as viemDomainSeparator, encodeAbiParameters, hashTypedData, keccak256, toBytes, type TypedDataDomain } from 'viem';
import { keccak_256, keccak256TaggedJson, TAGS } from './hash.ts';
import { concatBytes, fromHex, toHex, utf8, type Hex } from './bytes.ts';
import type { Eip712DomainValue, Manifest, ResultBody } from './schemas.ts';

export const EIP712_DOMAIN_NAME = 'Props';
export const EIP712_DOMAIN_VERSION = '1';

export const RESULT_TYPES = {
  PropsResult: [
    { name: 'requestId', type: 'bytes32' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'pipelineId', type: 'bytes32' },
    { name: 'resultHash', type: 'bytes32' },
    { name: 'inputCommitment', type: 'bytes32' },
    { name: 'score', type: 'uint16' },
    { name: 'approved', type: 'bool' },
    { name: 'issuedAt', type: 'uint64' },
  ],
} as const;

/** Auditor sign-off over a verifier's attestation result, collected k-of-n to register an enclave key. */
export const REGISTRATION_TYPES = {
  KeyRegistration: [
    { name: 'pipelineId', type: 'bytes32' },
    { name: 'keyId', type: 'bytes32' },
    { name: 'evidenceDigest', type: 'bytes32' },
    { name: 'earDigest', type: 'bytes32' },
    { name: 'expiresAt', type: 'uint64' },
  ],
} as const;

/**
 * A transparency-log head signed by an enclave's on-chain key and posted to PropsRegistry (domain: the registry).
 * `keyId` names the log (one log per enclave key); `treeSize` must only grow on chain.
 */
export const CHECKPOINT_TYPES = {
  Checkpoint: [
    { name: 'keyId', type: 'bytes32' },
    { name: 'treeSize', type: 'uint64' },
    { name: 'root', type: 'bytes32' },
  ],
} as const;

export type CheckpointMessage = { keyId: Hex; treeSize: bigint; root: Hex };

export type KeyRegistrationMessage = {
  pipelineId: Hex;
  keyId: Hex;
  evidenceDigest: Hex;
  earDigest: Hex;
  expiresAt: bigint;
};

export type ResultMessage = {
  requestId: Hex;
  nonce: Hex;
  pipelineId: Hex;
  resultHash: Hex;
  inputCommitment: Hex;
  score: number;
  approved: boolean;
  issuedAt: bigint;
};

/** keccak-256 commitment to the whole signed result statement (canonical JSON, tagged). */
export function resultHash(body: ResultBody): Hex {
  return toHex(keccak256TaggedJson(TAGS.result, body));
}

export function resultMessage(body: ResultBody): ResultMessage {
  return {
    requestId: body.requestId as Hex,
    nonce: body.nonce as Hex,
    pipelineId: body.pipelineId as Hex,
    resultHash: resultHash(body),
    inputCommitment: body.inputCommitment as Hex,
    score: body.output.score,
    approved: body.output.decision === 'approve',
    issuedAt: BigInt(body.iat),
  };
}

export function toTypedDataDomain(d: Eip712DomainValue): TypedDataDomain {
  return { name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract as Hex };
}

/** The 32-byte EIP-712 digest a result's on-chain signature covers. */
export function resultDigest(domain: Eip712DomainValue, body: ResultBody): Hex {
  return resultDigestOf(domain, resultMessage(body));
}

// The hot path (one digest per scored result) hashes the fixed-width struct directly: 9 static words, no ABI
// walker. `eip712.test.ts` checks it against viem's hashTypedData/hashStruct on random messages.
const RESULT_TYPEHASH = keccak_256(
  utf8('PropsResult(bytes32 requestId,bytes32 nonce,bytes32 pipelineId,bytes32 resultHash,bytes32 inputCommitment,uint16 score,bool approved,uint64 issuedAt)'),
);
const domainSeparators = new Map<string, Uint8Array>();

function domainSeparatorOf(d: Eip712DomainValue): Uint8Array {
  const key = `${d.name}\u0000${d.version}\u0000${d.chainId}\u0000${d.verifyingContract.toLowerCase()}`;
  let sep = domainSeparators.get(key);
  if (!sep) {
    sep = fromHex(viemDomainSeparator({ domain: toTypedDataDomain(d) }), 32);
    if (domainSeparators.size > 64) domainSeparators.clear();
    domainSeparators.set(key, sep);
  }
  return sep;
}

function word(value: bigint): Uint8Array {
  if (value < 0n || value >= 1n << 256n) throw new RangeError('eip712: word out of range');
  return fromHex(value.toString(16).padStart(64, '0'), 32);
}

// Nine static words written into one buffer (this runs for every scored result). The result hash comes as hex (a
// message) or as the 32 bytes just computed (`resultStructHashOf`).
function resultStructBytes(m: Omit<ResultMessage, 'resultHash'> & { resultHash: Hex | Uint8Array }): Uint8Array {
  if (!Number.isInteger(m.score) || m.score < 0 || m.score > 0xffff) throw new RangeError('eip712: score is not a uint16');
  if (typeof m.issuedAt !== 'bigint' || m.issuedAt < 0n || m.issuedAt >= 1n << 64n) throw new RangeError('eip712: issuedAt is not a uint64');
  const resultHashBytes = typeof m.resultHash === 'string' ? fromHex(m.resultHash, 32) : m.resultHash;
  if (resultHashBytes.length !== 32) throw new RangeError('eip712: resultHash is not 32 bytes');
  const out = new Uint8Array(9 * 32);
  out.set(RESULT_TYPEHASH, 0);
  out.set(fromHex(m.requestId, 32), 32);
  out.set(fromHex(m.nonce, 32), 64);
  out.set(fromHex(m.pipelineId, 32), 96);
  out.set(resultHashBytes, 128);
  out.set(fromHex(m.inputCommitment, 32), 160);
  const view = new DataView(out.buffer);
  view.setUint16(6 * 32 + 30, m.score);
  out[7 * 32 + 31] = m.approved ? 1 : 0;
  view.setBigUint64(8 * 32 + 24, m.issuedAt);
  return out;
}

/** EIP-712 digest of a result message under `domain`. */
export function resultDigestOf(domain: Eip712DomainValue, m: ResultMessage): Hex {
  return resultDigestOfStructHash(domain, keccak_256(resultStructBytes(m)));
}

/** EIP-712 digest under `domain` of a result whose struct hash is already known (`resultStructHashOf`). */
export function resultDigestOfStructHash(domain: Eip712DomainValue, structHash: Uint8Array): Hex {
  return toHex(keccak_256(concatBytes(Uint8Array.of(0x19, 0x01), domainSeparatorOf(domain), structHash)));
}

/**
 * `resultStructHash(resultMessage(body))` as bytes, without the hex round trips in between: the enclave computes it
 * once for every result it signs (its log leaf and its EIP-712 digest both come from it), the verifier for every
 * batched result it checks.
 */
export function resultStructHashOf(body: ResultBody): Uint8Array {
  return keccak_256(
    resultStructBytes({
      requestId: body.requestId as Hex,
      nonce: body.nonce as Hex,
      pipelineId: body.pipelineId as Hex,
      resultHash: keccak256TaggedJson(TAGS.result, body),
      inputCommitment: body.inputCommitment as Hex,
      score: body.output.score,
      approved: body.output.decision === 'approve',
      issuedAt: BigInt(body.iat),
    }),
  );
}

/**
 * EIP-712 hashStruct of a result message: the datum of the result's transparency-log leaf
 * (leaf = SHA-256(0x00 || structHash), RFC 9162), so the escrow recomputes the leaf from the same fields.
 */
export function resultStructHash(message: ResultMessage): Hex {
  return toHex(keccak_256(resultStructBytes(message)));
}

/** The 32-byte EIP-712 digest of a checkpoint under the registry's domain. */
export function checkpointDigest(domain: Eip712DomainValue, message: CheckpointMessage): Hex {
  return hashTypedData({
    domain: toTypedDataDomain(domain),
    types: CHECKPOINT_TYPES,
    primaryType: 'Checkpoint',
    message,
  });
}

/** The 32-byte EIP-712 digest an auditor signs to register an enclave key (registry's domain). */
export function keyRegistrationDigest(domain: Eip712DomainValue, message: KeyRegistrationMessage): Hex {
  return hashTypedData({
    domain: toTypedDataDomain(domain),
    types: REGISTRATION_TYPES,
    primaryType: 'KeyRegistration',
    message,
  });
}

const PIPELINE_TAG = keccak256(toBytes('props.pipeline.v1'));

/**
 * pipelineId = keccak256(abi.encode(keccak256("props.pipeline.v1"), codeHash, modelHash, policyHash,
 * keccak256(bytes(platform)))) — recomputable on chain from the registered fields.
 */
export function pipelineId(m: Pick<Manifest, 'codeHash' | 'modelHash' | 'policyHash' | 'platform'>): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
      [PIPELINE_TAG, m.codeHash as Hex, m.modelHash as Hex, m.policyHash as Hex, keccak256(toBytes(m.platform))],
    ),
  );
}

/** keyId = keccak256 of the uncompressed public key without its 0x04 prefix (x || y). */
export function chainKeyId(publicKey: Hex): Hex {
  return keccak256(`0x${publicKey.slice(4)}`);
}
