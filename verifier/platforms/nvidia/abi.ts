// NVIDIA H100 attestation report: SPDM 1.1 GET_MEASUREMENTS request || MEASUREMENTS response (DSP0274 §10.11),
// with NVIDIA's opaque-data TLVs (nvtrust local_gpu_verifier, opaque_data.py). Named offsets, checked lengths.
import { PropsError } from '../../../protocol/index.ts';

export const SPDM_GET_MEASUREMENTS = 0xe0;
export const SPDM_MEASUREMENTS = 0x60;
export const REQUEST_SIZE = 37; // header 4 + nonce 32 + slot 1
export const REQ_NONCE = 4;
export const NONCE_SIZE = 32;
export const RESP_NUM_BLOCKS = 4; // u8
export const RESP_RECORD_LEN = 5; // u24
export const RESP_RECORD = 8;
export const SIGNATURE_SIZE = 96; // ECDSA P-384 r||s
// Measurement block: index u8, spec u8, size u16, then DMTF value: type u8, size u16, value.
export const BLOCK_HEADER = 4;
export const DMTF_HEADER = 3;
// Opaque data TLV types (NVIDIA).
export const OPAQUE_DRIVER_VERSION = 3;
export const OPAQUE_VBIOS_VERSION = 6;

export type SpdmReport = {
  requestNonce: Uint8Array;
  responseNonce: Uint8Array;
  measurements: Map<number, Uint8Array>;
  opaque: Map<number, Uint8Array>;
  /** request || response without the signature. */
  signed: Uint8Array;
  signature: Uint8Array;
};

/** Accepts raw bytes or the hex text nvtrust writes. */
export function reportBytes(input: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(input.subarray(0, 64));
  if (/^\s*(0x)?[0-9a-fA-F]+\s*$/.test(text)) {
    const all = new TextDecoder().decode(input).trim().replace(/^0x/, '');
    if (/^[0-9a-fA-F]*$/.test(all) && all.length % 2 === 0) return new Uint8Array(Buffer.from(all, 'hex'));
  }
  return input;
}

export function parseSpdmReport(input: Uint8Array): SpdmReport {
  const b = reportBytes(input);
  const need = (o: number, n: number) => {
    if (o + n > b.length) throw new PropsError('ERR_EVIDENCE_TRUNCATED', { detail: `SPDM report at ${o}` });
  };
  need(0, REQUEST_SIZE);
  if (b[1] !== SPDM_GET_MEASUREMENTS)
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'not a GET_MEASUREMENTS request' });
  const requestNonce = b.slice(REQ_NONCE, REQ_NONCE + NONCE_SIZE);
  const r = REQUEST_SIZE;
  need(r, RESP_RECORD);
  if (b[r + 1] !== SPDM_MEASUREMENTS)
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'not a MEASUREMENTS response' });
  const numBlocks = b[r + RESP_NUM_BLOCKS] ?? 0;
  const recLen =
    (b[r + RESP_RECORD_LEN] ?? 0) |
    ((b[r + RESP_RECORD_LEN + 1] ?? 0) << 8) |
    ((b[r + RESP_RECORD_LEN + 2] ?? 0) << 16);
  const recStart = r + RESP_RECORD;
  need(recStart, recLen);
  const measurements = new Map<number, Uint8Array>();
  let o = recStart;
  for (let i = 0; i < numBlocks; i++) {
    need(o, BLOCK_HEADER + DMTF_HEADER);
    const index = b[o] ?? 0;
    const size = (b[o + 2] ?? 0) | ((b[o + 3] ?? 0) << 8);
    const valueSize = (b[o + BLOCK_HEADER + 1] ?? 0) | ((b[o + BLOCK_HEADER + 2] ?? 0) << 8);
    if (valueSize + DMTF_HEADER !== size)
      throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: `measurement block ${index}` });
    need(o + BLOCK_HEADER + DMTF_HEADER, valueSize);
    measurements.set(index, b.slice(o + BLOCK_HEADER + DMTF_HEADER, o + BLOCK_HEADER + DMTF_HEADER + valueSize));
    o += BLOCK_HEADER + size;
  }
  if (o !== recStart + recLen) throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'measurement record length' });
  need(o, NONCE_SIZE + 2);
  const responseNonce = b.slice(o, o + NONCE_SIZE);
  o += NONCE_SIZE;
  const opaqueLen = (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
  o += 2;
  need(o, opaqueLen);
  const opaque = new Map<number, Uint8Array>();
  for (let p = o; p + 4 <= o + opaqueLen; ) {
    const t = (b[p] ?? 0) | ((b[p + 1] ?? 0) << 8);
    const s = (b[p + 2] ?? 0) | ((b[p + 3] ?? 0) << 8);
    if (p + 4 + s > o + opaqueLen) throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'opaque data' });
    opaque.set(t, b.slice(p + 4, p + 4 + s));
    p += 4 + s;
  }
  o += opaqueLen;
  if (b.length !== o + SIGNATURE_SIZE) throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'signature position' });
  return { requestNonce, responseNonce, measurements, opaque, signed: b.slice(0, o), signature: b.slice(o) };
}
