// Intel DCAP quote layout (SGX v3, TDX v4/v5): bytes → typed fields. Every offset and size is a named constant
// (Intel "TDX DCAP Quoting Library API" §A.3, A.4; SGX ECDSA Quote Library API §A.4). Parsing checks every length
// before slicing and authenticates nothing.
import { PropsError } from '../../../protocol/index.ts';

export const HEADER_SIZE = 48;
export const HEADER_VERSION = 0; // u16
export const HEADER_ATT_KEY_TYPE = 2; // u16
export const HEADER_TEE_TYPE = 4; // u32
export const HEADER_PCE_SVN = 10; // u16
export const HEADER_QE_VENDOR_ID = 12; // 16 bytes

export const TEE_TYPE_SGX = 0x00;
export const TEE_TYPE_TDX = 0x81;
export const ATT_KEY_TYPE_ECDSA_P256 = 2;

// v5 inserts a body descriptor after the header.
export const V5_BODY_TYPE = HEADER_SIZE; // u16: 1 SGX, 2 TD10, 3 TD15
export const V5_BODY_SIZE = HEADER_SIZE + 2; // u32
export const V5_BODY_OFFSET = HEADER_SIZE + 6;
export const BODY_TYPE_SGX = 1;
export const BODY_TYPE_TD10 = 2;
export const BODY_TYPE_TD15 = 3;

// SGX enclave report (also the QE report), 384 bytes.
export const ENCLAVE_REPORT_SIZE = 384;
export const ER_CPU_SVN = 0; // 16
export const ER_MISC_SELECT = 16; // u32
export const ER_ATTRIBUTES = 48; // 16
export const ER_MR_ENCLAVE = 64; // 32
export const ER_MR_SIGNER = 128; // 32
export const ER_ISV_PROD_ID = 256; // u16
export const ER_ISV_SVN = 258; // u16
export const ER_REPORT_DATA = 320; // 64
export const SGX_ATTR_DEBUG = 0x02; // attributes[0] bit 1

// TD report body: TD10 584 bytes, TD15 648 bytes.
export const TD10_SIZE = 584;
export const TD15_SIZE = 648;
export const TD_TEE_TCB_SVN = 0; // 16
export const TD_MR_SEAM = 16; // 48
export const TD_MR_SIGNER_SEAM = 64; // 48
export const TD_SEAM_ATTRIBUTES = 112; // 8
export const TD_ATTRIBUTES = 120; // 8
export const TD_XFAM = 128; // 8
export const TD_MR_TD = 136; // 48
export const TD_MR_CONFIG_ID = 184; // 48
export const TD_MR_OWNER = 232; // 48
export const TD_MR_OWNER_CONFIG = 280; // 48
export const TD_RTMR0 = 328; // 4 × 48
export const TD_REPORT_DATA = 520; // 64
export const TD15_TEE_TCB_SVN2 = 584; // 16
export const TD15_MR_SERVICE_TD = 600; // 48
export const TD_ATTR_DEBUG = 0x01; // td_attributes[0] bit 0 (TUD.DEBUG)
export const MEAS48 = 48;

// Signature data (after u32 length).
export const SIG_QUOTE_SIGNATURE = 0; // 64, r||s over header+body
export const SIG_ATTEST_KEY = 64; // 64, raw P-256 point
export const SIG_V3_QE_REPORT = 128; // v3: QE report follows directly
export const SIG_V4_CERT_DATA = 128; // v4/v5: certification data (type 6) follows
export const CERT_TYPE_PCK_CHAIN = 5;
export const CERT_TYPE_QE_REPORT = 6;
export const ECDSA_SIG_SIZE = 64;

export type EnclaveReport = {
  raw: Uint8Array;
  cpuSvn: Uint8Array;
  miscSelect: number;
  attributes: Uint8Array;
  mrEnclave: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  isvSvn: number;
  reportData: Uint8Array;
};

export type TdReport = {
  kind: 'td10' | 'td15';
  teeTcbSvn: Uint8Array;
  mrSeam: Uint8Array;
  tdAttributes: Uint8Array;
  xfam: Uint8Array;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrOwnerConfig: Uint8Array;
  rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  reportData: Uint8Array;
  mrServiceTd?: Uint8Array;
};

export type Quote = {
  version: 3 | 4 | 5;
  teeType: number;
  pceSvn: number;
  /** Header + (v5 body descriptor +) body: the bytes the attestation key signs. */
  signed: Uint8Array;
  body: { type: 'sgx'; report: EnclaveReport } | { type: 'td'; report: TdReport };
  signature: Uint8Array;
  attestKey: Uint8Array;
  qeReport: EnclaveReport;
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  pckChainPem: string;
};

class Reader {
  constructor(
    private readonly b: Uint8Array,
    private readonly what: string,
  ) {}
  private dv = (o: number, n: number) => {
    if (o < 0 || o + n > this.b.length)
      throw new PropsError('ERR_EVIDENCE_TRUNCATED', { detail: `${this.what} at ${o}` });
    return new DataView(this.b.buffer, this.b.byteOffset + o, n);
  };
  u16 = (o: number) => this.dv(o, 2).getUint16(0, true);
  u32 = (o: number) => this.dv(o, 4).getUint32(0, true);
  bytes = (o: number, n: number) => {
    this.dv(o, n); // bounds check
    return this.b.slice(o, o + n);
  };
  get length() {
    return this.b.length;
  }
}

export function parseEnclaveReport(raw: Uint8Array): EnclaveReport {
  const r = new Reader(raw, 'enclave report');
  if (raw.length !== ENCLAVE_REPORT_SIZE)
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'enclave report size' });
  return {
    raw,
    cpuSvn: r.bytes(ER_CPU_SVN, 16),
    miscSelect: r.u32(ER_MISC_SELECT),
    attributes: r.bytes(ER_ATTRIBUTES, 16),
    mrEnclave: r.bytes(ER_MR_ENCLAVE, 32),
    mrSigner: r.bytes(ER_MR_SIGNER, 32),
    isvProdId: r.u16(ER_ISV_PROD_ID),
    isvSvn: r.u16(ER_ISV_SVN),
    reportData: r.bytes(ER_REPORT_DATA, 64),
  };
}

export function parseTdReport(raw: Uint8Array, kind: 'td10' | 'td15'): TdReport {
  const r = new Reader(raw, 'TD report');
  const m = (o: number) => r.bytes(o, MEAS48);
  const td: TdReport = {
    kind,
    teeTcbSvn: r.bytes(TD_TEE_TCB_SVN, 16),
    mrSeam: m(TD_MR_SEAM),
    tdAttributes: r.bytes(TD_ATTRIBUTES, 8),
    xfam: r.bytes(TD_XFAM, 8),
    mrTd: m(TD_MR_TD),
    mrConfigId: m(TD_MR_CONFIG_ID),
    mrOwner: m(TD_MR_OWNER),
    mrOwnerConfig: m(TD_MR_OWNER_CONFIG),
    rtmr: [m(TD_RTMR0), m(TD_RTMR0 + MEAS48), m(TD_RTMR0 + 2 * MEAS48), m(TD_RTMR0 + 3 * MEAS48)],
    reportData: r.bytes(TD_REPORT_DATA, 64),
  };
  if (kind === 'td15') td.mrServiceTd = m(TD15_MR_SERVICE_TD);
  return td;
}

const PEM_END = '-----END CERTIFICATE-----';

export function parseQuote(bytes: Uint8Array): Quote {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('quote: expected Uint8Array');
  const r = new Reader(bytes, 'quote');
  const version = r.u16(HEADER_VERSION);
  if (version !== 3 && version !== 4 && version !== 5)
    throw new PropsError('ERR_UNKNOWN_VERSION', { detail: `quote version ${version}` });
  if (r.u16(HEADER_ATT_KEY_TYPE) !== ATT_KEY_TYPE_ECDSA_P256)
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'attestation key type' });
  const teeType = r.u32(HEADER_TEE_TYPE);
  const pceSvn = r.u16(HEADER_PCE_SVN);

  let bodyStart: number;
  let bodySize: number;
  let body: Quote['body'];
  if (version === 5) {
    const bt = r.u16(V5_BODY_TYPE);
    bodySize = r.u32(V5_BODY_SIZE);
    bodyStart = V5_BODY_OFFSET;
    const expected =
      bt === BODY_TYPE_TD10
        ? TD10_SIZE
        : bt === BODY_TYPE_TD15
          ? TD15_SIZE
          : bt === BODY_TYPE_SGX
            ? ENCLAVE_REPORT_SIZE
            : -1;
    if (bodySize !== expected)
      throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: `v5 body type ${bt} size ${bodySize}` });
    const raw = r.bytes(bodyStart, bodySize);
    body =
      bt === BODY_TYPE_SGX
        ? { type: 'sgx', report: parseEnclaveReport(raw) }
        : { type: 'td', report: parseTdReport(raw, bt === BODY_TYPE_TD15 ? 'td15' : 'td10') };
  } else {
    bodyStart = HEADER_SIZE;
    bodySize = teeType === TEE_TYPE_TDX ? TD10_SIZE : ENCLAVE_REPORT_SIZE;
    const raw = r.bytes(bodyStart, bodySize);
    body =
      teeType === TEE_TYPE_TDX
        ? { type: 'td', report: parseTdReport(raw, 'td10') }
        : { type: 'sgx', report: parseEnclaveReport(raw) };
  }
  if (
    teeType === TEE_TYPE_SGX
      ? body.type !== 'sgx' || version !== 3
      : teeType !== TEE_TYPE_TDX || body.type !== 'td' || version === 3
  ) {
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: `tee type ${teeType} with quote version ${version}` });
  }

  const signedLen = bodyStart + bodySize;
  const sigLen = r.u32(signedLen);
  const sigStart = signedLen + 4;
  const sig = new Reader(r.bytes(sigStart, sigLen), 'signature data');
  // Quotes from real QGS are often zero-padded to a fixed buffer: bytes after the signature data are ignored.

  const signature = sig.bytes(SIG_QUOTE_SIGNATURE, ECDSA_SIG_SIZE);
  const attestKey = sig.bytes(SIG_ATTEST_KEY, 64);
  // v3: QE report directly; v4/v5: wrapped in certification data of type 6.
  let qe: Reader;
  let qeOff: number;
  if (version === 3) {
    qe = sig;
    qeOff = SIG_V3_QE_REPORT;
  } else {
    const ctype = sig.u16(SIG_V4_CERT_DATA);
    const csize = sig.u32(SIG_V4_CERT_DATA + 2);
    if (ctype !== CERT_TYPE_QE_REPORT)
      throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: `certification data type ${ctype}` });
    qe = new Reader(sig.bytes(SIG_V4_CERT_DATA + 6, csize), 'QE report certification data');
    qeOff = 0;
  }
  const qeReport = parseEnclaveReport(qe.bytes(qeOff, ENCLAVE_REPORT_SIZE));
  const qeReportSignature = qe.bytes(qeOff + ENCLAVE_REPORT_SIZE, ECDSA_SIG_SIZE);
  const authOff = qeOff + ENCLAVE_REPORT_SIZE + ECDSA_SIG_SIZE;
  const authLen = qe.u16(authOff);
  const qeAuthData = qe.bytes(authOff + 2, authLen);
  const certOff = authOff + 2 + authLen;
  const certType = qe.u16(certOff);
  const certSize = qe.u32(certOff + 2);
  if (certType !== CERT_TYPE_PCK_CHAIN)
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: `PCK certification data type ${certType}` });
  let pckChainPem = new TextDecoder('utf-8', { fatal: false }).decode(qe.bytes(certOff + 6, certSize));
  // Quotes often carry a trailing NUL after the PEM bundle.
  const end = pckChainPem.lastIndexOf(PEM_END);
  if (end >= 0) pckChainPem = pckChainPem.slice(0, end + PEM_END.length);

  return {
    version,
    teeType,
    pceSvn,
    signed: bytes.slice(0, signedLen),
    body,
    signature,
    attestKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckChainPem,
  };
}
