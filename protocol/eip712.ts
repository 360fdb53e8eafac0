// EIP-712 types shared by the enclave (signer), the verifier and the contracts (PropsEscrow/PropsRegistry).
// The on-chain form of a result is a fixed-width struct; its `resultHash` commits to the full JWS payload.
import { encodeAbiParameters, hashDomain, hashTypedData, keccak256, toBytes, type TypedDataDomain } from 'viem';
import { canonicalBytes } from './canonical.ts';
import { keccak256Tagged, keccak_256, TAGS } from './hash.ts';
import { toHex, type Hex } from './bytes.ts';
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
  return toHex(keccak256Tagged(TAGS.result, canonicalBytes(body)));
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

/** The 32-byte EIP-712 digest a result's on-chain signature covers (reference: viem's generic encoder). */
export function resultDigestViem(domain: Eip712DomainValue, body: ResultBody): Hex {
  return hashTypedData({
    domain: toTypedDataDomain(domain),
    types: RESULT_TYPES,
    primaryType: 'PropsResult',
    message: resultMessage(body),
  });
}

// issue 5: the scoring service signs and logs every result, so the EIP-712 encoding is written out for this one
// fixed struct (every field one static 32-byte word) with the type hash and domain separators computed once.
// Output is identical to resultDigestViem (tested); the generic encoder cost most of signResult's time.
const RESULT_TYPEHASH = keccak_256(
  new TextEncoder().encode(`PropsResult(${RESULT_TYPES.PropsResult.map((f) => `${f.type} ${f.name}`).join(',')})`),
);
const domainSeparators = new Map<string, Uint8Array>();

function domainSeparator(d: Eip712DomainValue): Uint8Array {
  const key = `${d.name}\0${d.version}\0${d.chainId}\0${d.verifyingContract.toLowerCase()}`;
  let sep = domainSeparators.get(key);
  if (!sep) {
    sep = fromHexBytes(
      hashDomain({
        domain: { name: d.name, version: d.version, chainId: BigInt(d.chainId), verifyingContract: d.verifyingContract as Hex },
        types: { EIP712Domain: EIP712_DOMAIN_FIELDS },
      }),
    );
    if (domainSeparators.size < 64) domainSeparators.set(key, sep);
  }
  return sep;
}

const EIP712_DOMAIN_FIELDS = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
] as const;

const fromHexBytes = (h: Hex): Uint8Array => Uint8Array.from(Buffer.from(h.slice(2), 'hex'));

/** hashStruct(PropsResult): the EIP-712 struct hash of a result (also its transparency-log leaf data). */
export function resultStructHash(body: ResultBody): Hex {
  const m = resultMessage(body);
  const enc = new Uint8Array(32 * 9);
  enc.set(RESULT_TYPEHASH, 0);
  enc.set(fromHexBytes(m.requestId), 32);
  enc.set(fromHexBytes(m.nonce), 64);
  enc.set(fromHexBytes(m.pipelineId), 96);
  enc.set(fromHexBytes(m.resultHash), 128);
  enc.set(fromHexBytes(m.inputCommitment), 160);
  if (!Number.isInteger(m.score) || m.score < 0 || m.score > 0xffff) throw new RangeError('score: uint16');
  enc[6 * 32 + 30] = (m.score >> 8) & 0xff;
  enc[6 * 32 + 31] = m.score & 0xff;
  enc[7 * 32 + 31] = m.approved ? 1 : 0;
  new DataView(enc.buffer).setBigUint64(8 * 32 + 24, BigInt.asUintN(64, m.issuedAt));
  return toHex(keccak_256(enc));
}

/** The 32-byte EIP-712 digest a result's on-chain signature covers: keccak256(0x1901 ‖ domainSeparator ‖ structHash). */
export function resultDigest(domain: Eip712DomainValue, body: ResultBody): Hex {
  const buf = new Uint8Array(66);
  buf[0] = 0x19;
  buf[1] = 0x01;
  buf.set(domainSeparator(domain), 2);
  buf.set(fromHexBytes(resultStructHash(body)), 34);
  return toHex(keccak_256(buf));
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
