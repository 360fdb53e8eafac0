// The simulated platform's quote: laid out like an Intel TDX v4 quote (header + TD report body + signature
// data), signed by a simulated attestation key. It proves nothing about hardware; it exists so the whole flow can be
// tested in public, and it is labelled platform "sim" wherever it appears.
import { PropsError } from './errors.ts';
import { sha384Tagged, TAGS } from './hash.ts';
import { concatBytes, fromHex, utf8 } from './bytes.ts';
import { canonicalBytes } from './canonical.ts';
import type { Manifest } from './schemas.ts';

// Header (48 bytes), as in a TDX v4 quote.
export const HEADER_VERSION_OFFSET = 0; // u16 LE
export const HEADER_ATT_KEY_TYPE_OFFSET = 2; // u16 LE, 2 = ECDSA P-256
export const HEADER_TEE_TYPE_OFFSET = 4; // u32 LE, 0x81 = TDX
export const HEADER_QE_SVN_OFFSET = 8; // u16 LE
export const HEADER_PCE_SVN_OFFSET = 10; // u16 LE
export const HEADER_QE_VENDOR_ID_OFFSET = 12; // 16 bytes
export const HEADER_QE_VENDOR_ID_SIZE = 16;
export const HEADER_USER_DATA_OFFSET = 28; // 20 bytes
export const HEADER_SIZE = 48;

// TD report body (584 bytes) follows the header.
export const BODY_OFFSET = HEADER_SIZE;
export const BODY_TEE_TCB_SVN = 0; // 16
export const BODY_MRSEAM = 16; // 48
export const BODY_MRSIGNERSEAM = 64; // 48
export const BODY_SEAM_ATTRIBUTES = 112; // 8
export const BODY_TD_ATTRIBUTES = 120; // 8; bit 0 = DEBUG
export const BODY_XFAM = 128; // 8
export const BODY_MRTD = 136; // 48
export const BODY_MRCONFIGID = 184; // 48
export const BODY_MROWNER = 232; // 48
export const BODY_MROWNERCONFIG = 280; // 48
export const BODY_RTMR0 = 328; // 4 × 48
export const BODY_REPORT_DATA = 520; // 64
export const BODY_SIZE = 584;
export const MEASUREMENT_SIZE = 48;
export const REPORT_DATA_SIZE = 64;

// Signature data: u32 LE length, then ECDSA r||s (64) and the attestation public key x||y (64).
export const SIG_LEN_OFFSET = BODY_OFFSET + BODY_SIZE; // 632
export const SIG_DATA_OFFSET = SIG_LEN_OFFSET + 4; // 636
export const SIG_SIZE = 64;
export const ATT_KEY_SIZE = 64;
export const SIG_DATA_SIZE = SIG_SIZE + ATT_KEY_SIZE;
export const QUOTE_SIZE = SIG_DATA_OFFSET + SIG_DATA_SIZE; // 764

export const SIM_QUOTE_VERSION = 4;
export const SIM_ATT_KEY_TYPE = 2;
export const SIM_TEE_TYPE = 0x81;
/** The vendor id marks every sim quote: it can never be mistaken for Intel's QE vendor id. */
export const SIM_VENDOR_ID = utf8('PROPS-SIM-VENDOR');
export const TD_ATTRIBUTES_DEBUG_BIT = 0x01;

export type SimMeasurements = {
  mrtd: Uint8Array;
  rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  mrconfigid: Uint8Array;
};

/** The measurements a sim enclave with this manifest reports; the sim verifier recomputes and compares them. */
export function simMeasurementsFor(m: Manifest, mHash: string): SimMeasurements {
  const rt = (i: number, data: Uint8Array) => sha384Tagged(TAGS.simRtmr, concatBytes(Uint8Array.of(i), data));
  return {
    mrtd: sha384Tagged(TAGS.simMrtd, fromHex(m.codeHash, 32)),
    rtmr: [
      rt(0, fromHex(m.modelHash, 32)),
      rt(1, fromHex(m.policyHash, 32)),
      rt(2, canonicalBytes({ runtime: m.runtime, executionProvider: m.executionProvider })),
      new Uint8Array(MEASUREMENT_SIZE),
    ],
    mrconfigid: concatBytes(fromHex(mHash, 32), new Uint8Array(16)),
  };
}

export type SimQuoteFields = SimMeasurements & { reportData: Uint8Array; debug: boolean };

/** The signed region (header + body) of a sim quote. */
export function encodeSimQuoteBody(f: SimQuoteFields): Uint8Array {
  if (f.reportData.length !== REPORT_DATA_SIZE) throw new RangeError('reportData: expected 64 bytes');
  const out = new Uint8Array(HEADER_SIZE + BODY_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint16(HEADER_VERSION_OFFSET, SIM_QUOTE_VERSION, true);
  dv.setUint16(HEADER_ATT_KEY_TYPE_OFFSET, SIM_ATT_KEY_TYPE, true);
  dv.setUint32(HEADER_TEE_TYPE_OFFSET, SIM_TEE_TYPE, true);
  out.set(SIM_VENDOR_ID, HEADER_QE_VENDOR_ID_OFFSET);
  const b = BODY_OFFSET;
  out[b + BODY_TD_ATTRIBUTES] = f.debug ? TD_ATTRIBUTES_DEBUG_BIT : 0;
  out.set(f.mrtd, b + BODY_MRTD);
  out.set(f.mrconfigid, b + BODY_MRCONFIGID);
  f.rtmr.forEach((r, i) => out.set(r, b + BODY_RTMR0 + i * MEASUREMENT_SIZE));
  out.set(f.reportData, b + BODY_REPORT_DATA);
  return out;
}

export function assembleSimQuote(signed: Uint8Array, signature: Uint8Array, attestationKeyXY: Uint8Array): Uint8Array {
  if (signature.length !== SIG_SIZE || attestationKeyXY.length !== ATT_KEY_SIZE)
    throw new RangeError('sim quote signature data');
  const out = new Uint8Array(QUOTE_SIZE);
  out.set(signed, 0);
  new DataView(out.buffer).setUint32(SIG_LEN_OFFSET, SIG_DATA_SIZE, true);
  out.set(signature, SIG_DATA_OFFSET);
  out.set(attestationKeyXY, SIG_DATA_OFFSET + SIG_SIZE);
  return out;
}

export type ParsedSimQuote = SimQuoteFields & {
  signed: Uint8Array;
  signature: Uint8Array;
  attestationKey: Uint8Array;
  tdAttributes: Uint8Array;
};

/** Parses a sim quote; lengths are checked before any slice. */
export function parseSimQuote(q: Uint8Array): ParsedSimQuote {
  if (!(q instanceof Uint8Array)) throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'quote is not bytes' });
  if (q.length < QUOTE_SIZE)
    throw new PropsError('ERR_EVIDENCE_TRUNCATED', { detail: `${q.length} < ${QUOTE_SIZE} bytes` });
  if (q.length > QUOTE_SIZE) throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'trailing bytes after quote' });
  const dv = new DataView(q.buffer, q.byteOffset, q.byteLength);
  if (dv.getUint16(HEADER_VERSION_OFFSET, true) !== SIM_QUOTE_VERSION)
    throw new PropsError('ERR_UNKNOWN_VERSION', { detail: 'sim quote version' });
  if (dv.getUint16(HEADER_ATT_KEY_TYPE_OFFSET, true) !== SIM_ATT_KEY_TYPE)
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'attestation key type' });
  if (dv.getUint32(HEADER_TEE_TYPE_OFFSET, true) !== SIM_TEE_TYPE)
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'tee type' });
  const vendor = q.subarray(HEADER_QE_VENDOR_ID_OFFSET, HEADER_QE_VENDOR_ID_OFFSET + HEADER_QE_VENDOR_ID_SIZE);
  if (!vendor.every((v, i) => v === SIM_VENDOR_ID[i]))
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'not a sim vendor id' });
  if (dv.getUint32(SIG_LEN_OFFSET, true) !== SIG_DATA_SIZE)
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'signature data length' });
  const b = BODY_OFFSET;
  const m = (off: number) => q.slice(b + off, b + off + MEASUREMENT_SIZE);
  const tdAttributes = q.slice(b + BODY_TD_ATTRIBUTES, b + BODY_TD_ATTRIBUTES + 8);
  return {
    signed: q.slice(0, HEADER_SIZE + BODY_SIZE),
    signature: q.slice(SIG_DATA_OFFSET, SIG_DATA_OFFSET + SIG_SIZE),
    attestationKey: q.slice(SIG_DATA_OFFSET + SIG_SIZE, SIG_DATA_OFFSET + SIG_DATA_SIZE),
    tdAttributes,
    debug: ((tdAttributes[0] ?? 0) & TD_ATTRIBUTES_DEBUG_BIT) !== 0,
    mrtd: m(BODY_MRTD),
    mrconfigid: m(BODY_MRCONFIGID),
    rtmr: [m(BODY_RTMR0), m(BODY_RTMR0 + 48), m(BODY_RTMR0 + 96), m(BODY_RTMR0 + 144)],
    reportData: q.slice(b + BODY_REPORT_DATA, b + BODY_REPORT_DATA + REPORT_DATA_SIZE),
  };
}

/** Sim certificate payload (carried as a compact JWS signed ES256 by its issuer). */
export type SimCertPayload = {
  v: 1;
  typ: 'props-sim-cert';
  sub: 'sim-attestation-key';
  /** Subject public key, uncompressed SEC1 0x04… */
  pub: string;
  /** SHA-256 fingerprint of the issuer's raw public key. */
  iss: string;
  nbf: number;
  exp: number;
};
