// AMD SEV-SNP ATTESTATION_REPORT (SEV-SNP ABI spec 1.55, table 22): named offsets, length-checked parse.
import { PropsError } from '../../../protocol/index.ts';

export const REPORT_SIZE = 0x4a0; // 1184
export const VERSION = 0x00; // u32
export const GUEST_SVN = 0x04; // u32
export const POLICY = 0x08; // u64
export const VMPL = 0x30; // u32
export const SIGNATURE_ALGO = 0x34; // u32
export const CURRENT_TCB = 0x38; // u64 TCB_VERSION
export const PLATFORM_INFO = 0x40; // u64
export const REPORT_DATA = 0x50; // 64
export const MEASUREMENT = 0x90; // 48
export const HOST_DATA = 0xc0; // 32
export const ID_KEY_DIGEST = 0xe0; // 48
export const AUTHOR_KEY_DIGEST = 0x110; // 48
export const REPORT_ID = 0x140; // 32
export const REPORTED_TCB = 0x180; // u64 TCB_VERSION
export const CHIP_ID = 0x1a0; // 64
export const COMMITTED_TCB = 0x1e0; // u64
export const LAUNCH_TCB = 0x1f8; // u64
export const SIGNATURE = 0x2a0; // r (72, little-endian) || s (72, little-endian)
export const SIGNATURE_COMPONENT = 72;
export const P384_SIZE = 48;
export const SIG_ALGO_ECDSA_P384_SHA384 = 1;
export const POLICY_DEBUG_BIT = 19n;
// TCB_VERSION bytes (Milan/Genoa layout).
export const TCB_BOOTLOADER = 0;
export const TCB_TEE = 1;
export const TCB_SNP = 6;
export const TCB_MICROCODE = 7;

export type Tcb = { bootloader: number; tee: number; snp: number; microcode: number };

export type SnpReport = {
  version: number;
  guestSvn: number;
  policy: bigint;
  vmpl: number;
  signatureAlgo: number;
  currentTcb: Tcb;
  reportedTcb: Tcb;
  reportData: Uint8Array;
  measurement: Uint8Array;
  hostData: Uint8Array;
  idKeyDigest: Uint8Array;
  chipId: Uint8Array;
  /** Bytes covered by the signature: [0, SIGNATURE). */
  signed: Uint8Array;
  /** r||s big-endian, 96 bytes (IEEE P1363) for node:crypto. */
  signatureP1363: Uint8Array;
};

const tcbAt = (b: Uint8Array, o: number): Tcb => ({
  bootloader: b[o + TCB_BOOTLOADER] ?? 0,
  tee: b[o + TCB_TEE] ?? 0,
  snp: b[o + TCB_SNP] ?? 0,
  microcode: b[o + TCB_MICROCODE] ?? 0,
});

/** Little-endian 72-byte component → big-endian 48 bytes; the high 24 bytes must be zero for P-384. */
function leComponent(b: Uint8Array): Uint8Array {
  if (b.subarray(P384_SIZE).some((x) => x !== 0))
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'signature component too large' });
  return b.slice(0, P384_SIZE).reverse();
}

export function parseReport(bytes: Uint8Array): SnpReport {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('report: expected Uint8Array');
  if (bytes.length < REPORT_SIZE)
    throw new PropsError('ERR_EVIDENCE_TRUNCATED', { detail: `SNP report ${bytes.length} bytes` });
  if (bytes.length > REPORT_SIZE) throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'SNP report size' });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(VERSION, true);
  if (version < 2 || version > 5)
    throw new PropsError('ERR_UNKNOWN_VERSION', { detail: `SNP report version ${version}` });
  const r = bytes.slice(SIGNATURE, SIGNATURE + SIGNATURE_COMPONENT);
  const s = bytes.slice(SIGNATURE + SIGNATURE_COMPONENT, SIGNATURE + 2 * SIGNATURE_COMPONENT);
  const sig = new Uint8Array(2 * P384_SIZE);
  sig.set(leComponent(r), 0);
  sig.set(leComponent(s), P384_SIZE);
  return {
    version,
    guestSvn: dv.getUint32(GUEST_SVN, true),
    policy: dv.getBigUint64(POLICY, true),
    vmpl: dv.getUint32(VMPL, true),
    signatureAlgo: dv.getUint32(SIGNATURE_ALGO, true),
    currentTcb: tcbAt(bytes, CURRENT_TCB),
    reportedTcb: tcbAt(bytes, REPORTED_TCB),
    reportData: bytes.slice(REPORT_DATA, REPORT_DATA + 64),
    measurement: bytes.slice(MEASUREMENT, MEASUREMENT + 48),
    hostData: bytes.slice(HOST_DATA, HOST_DATA + 32),
    idKeyDigest: bytes.slice(ID_KEY_DIGEST, ID_KEY_DIGEST + 48),
    chipId: bytes.slice(CHIP_ID, CHIP_ID + 64),
    signed: bytes.slice(0, SIGNATURE),
    signatureP1363: sig,
  };
}

// Certificate table (GHCB spec, SNP extended guest request; configfs-tsm `auxblob`): entries of
// { GUID (16), offset u32, length u32 }, ended by an all-zero entry; offsets are from the table start.
export const CERT_TABLE_ENTRY = 24;
export const CERT_TABLE_OFFSET = 16;
export const CERT_TABLE_LENGTH = 20;
export const CERT_TABLE_MAX_ENTRIES = 16;

/** The certificates (DER) a certificate table carries; GUIDs are not trusted: the chain check decides. */
export function parseCertTable(table: Uint8Array): Uint8Array[] {
  const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const out: Uint8Array[] = [];
  for (let i = 0; ; i++) {
    const o = i * CERT_TABLE_ENTRY;
    if (i >= CERT_TABLE_MAX_ENTRIES || o + CERT_TABLE_ENTRY > table.length)
      throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'SNP certificate table' });
    const off = dv.getUint32(o + CERT_TABLE_OFFSET, true);
    const len = dv.getUint32(o + CERT_TABLE_LENGTH, true);
    if (off === 0 && len === 0 && table.subarray(o, o + 16).every((b) => b === 0)) return out;
    if (off + len > table.length || len === 0)
      throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'SNP certificate table entry' });
    out.push(table.slice(off, off + len));
  }
}
