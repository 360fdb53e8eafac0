// DCAP quote authentication (SGX v3, TDX v4/v5): PCK chain → QE report → attestation key → quote, then the
// platform's TCB level from authenticated collateral. node:crypto does the P-256 work; verified collateral and
// PCK chains are cached by digest, so a repeat quote costs two signature checks and a TCB match.
import { createRequire } from 'node:module';
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject, type X509Certificate } from 'node:crypto';
import { PropsError, bytesEqual, toHex, type Hex } from '../../../protocol/index.ts';
import { checkNotRevoked, parsePemChain, sha256Hex, validity, verifyChain } from '../x509.ts';
import { parseQuote, SGX_ATTR_DEBUG, TD_ATTR_DEBUG, TEE_TYPE_TDX, type Quote } from './abi.ts';
import {
  CollateralCache,
  INTEL_SGX_ROOT_CA,
  type QeIdentity,
  type TcbInfo,
  type VerifiedCollateral,
} from './collateral.ts';

const require = createRequire(import.meta.url);
type DcapUtils = {
  getIntelExtension(der: Buffer): Buffer;
  getFmspc(ext: Buffer): Buffer;
  getCpuSvn(ext: Buffer): Buffer;
  getPceSvn(ext: Buffer): number;
};
// The Intel SGX PCK certificate extension (FMSPC, CPUSVN, PCESVN) is parsed by dcap-qvl's ASN.1 code.
const dcapUtils = require('@phala/dcap-qvl/src/utils.js') as DcapUtils;

/** TCB statuses from best to worst (Intel PCS); merge keeps the worse. */
const STATUS_SEVERITY: Record<string, number> = {
  UpToDate: 0,
  SWHardeningNeeded: 1,
  ConfigurationNeeded: 2,
  ConfigurationAndSWHardeningNeeded: 3,
  OutOfDate: 4,
  OutOfDateConfigurationNeeded: 5,
  Revoked: 6,
};

export type DcapClaims = {
  platform: 'tdx' | 'sgx';
  simulated: false;
  debug: boolean;
  reportData: Hex;
  measurements: Record<string, Hex>;
  status: string;
  advisories: string[];
  rootFingerprint: Hex;
  quoteVersion: number;
  fmspc: string;
  /** Oldest issue date of the TCB info / QE identity used, ISO. */
  collateralIssuedAt: string;
  /** SGX only. */
  isvSvn?: number;
  /** TDX only: raw TD attributes, for policy on reserved bits. */
  tdAttributes?: Hex;
};

type VerifiedPck = {
  leaf: X509Certificate;
  fmspc: string;
  cpuSvn: Uint8Array;
  pceSvn: number;
  window: { from: number; to: number };
};

export type DcapVerifierOptions = {
  root?: X509Certificate;
  cacheSize?: number;
  /**
   * Also run @phala/dcap-qvl's full verify on the same quote and collateral and require the same TCB status:
   * a second, independent implementation for one-shot checks (the CLI). Costs dcap-qvl's ~16 ms per quote.
   */
  crossCheck?: boolean;
};

type DcapQvl = { verify(quote: Uint8Array, collateral: unknown, nowSecs: number): { status: string } };
let dcapQvl: DcapQvl | undefined;

/** A DCAP verifier with its caches. One per process is the intended use. */
export class DcapVerifier {
  readonly root: X509Certificate;
  readonly collateral: CollateralCache;
  private readonly pck = new Map<string, VerifiedPck>();
  private readonly keys = new Map<string, KeyObject>();
  private readonly max: number;
  private readonly crossCheck: boolean;

  constructor(opts: DcapVerifierOptions = {}) {
    this.root = opts.root ?? INTEL_SGX_ROOT_CA;
    this.crossCheck = opts.crossCheck ?? false;
    this.max = opts.cacheSize ?? 256;
    this.collateral = new CollateralCache(this.root, Math.min(this.max, 64));
  }

  async verify(bytes: Uint8Array, collateralInput: unknown, now: Date): Promise<{ claims: DcapClaims; quote: Quote }> {
    const quote = parseQuote(bytes);
    const col = await this.collateral.get(collateralInput, now);
    const pck = this.verifyPck(quote.pckChainPem, col, now);

    // The PCK key signs the QE report.
    if (!p256Verify(pck.leaf.publicKey, quote.qeReport.raw, quote.qeReportSignature)) {
      throw new PropsError('ERR_QE_REPORT_SIGNATURE_INVALID');
    }
    // The QE report binds the attestation key (and QE auth data): SHA-256 in report_data[0..32], zeros after.
    const qeHash = createHash('sha256').update(quote.attestKey).update(quote.qeAuthData).digest();
    const rd = quote.qeReport.reportData;
    if (!bytesEqual(rd.subarray(0, 32), qeHash) || rd.subarray(32).some((b) => b !== 0))
      throw new PropsError('ERR_QE_HASH_MISMATCH');
    const qeStatus = matchQeIdentity(quote, col.qeIdentity);

    // The attestation key signs header + body.
    if (!p256Verify(this.attestKey(quote.attestKey), quote.signed, quote.signature)) {
      throw new PropsError('ERR_EVIDENCE_SIGNATURE_INVALID', { detail: 'quote signature' });
    }

    if (pck.fmspc !== col.tcbInfo.fmspc.toLowerCase()) throw new PropsError('ERR_FMSPC_MISMATCH');
    const isTdx = quote.teeType === TEE_TYPE_TDX;
    if (col.tcbInfo.id !== (isTdx ? 'TDX' : 'SGX'))
      throw new PropsError('ERR_COLLATERAL_MALFORMED', { detail: 'TCB info is for another TEE' });
    if (col.qeIdentity.id !== (isTdx ? 'TD_QE' : 'QE'))
      throw new PropsError('ERR_COLLATERAL_MALFORMED', { detail: 'QE identity is for another TEE' });
    const platformStatus = matchTcbLevel(col.tcbInfo, quote, pck);
    const status = worse(platformStatus, qeStatus);
    // Revoked is never acceptable, whatever the policy says.
    if (status.status === 'Revoked' || !(status.status in STATUS_SEVERITY)) {
      throw new PropsError('ERR_TCB_STATUS_NOT_ALLOWED', {
        detail: status.status === 'Revoked' ? 'Revoked' : 'unknown status',
      });
    }
    if (this.crossCheck) {
      if (this.root !== INTEL_SGX_ROOT_CA)
        throw new PropsError('ERR_DCAP_CROSS_CHECK_FAILED', { detail: 'dcap-qvl only knows the Intel root' });
      dcapQvl ??= require('@phala/dcap-qvl') as DcapQvl;
      let ref: { status: string };
      try {
        ref = dcapQvl.verify(bytes, collateralInput, Math.floor(now.getTime() / 1000));
      } catch (e) {
        throw new PropsError('ERR_DCAP_CROSS_CHECK_FAILED', { detail: 'dcap-qvl rejected the quote', cause: e });
      }
      if (ref.status !== status.status)
        throw new PropsError('ERR_DCAP_CROSS_CHECK_FAILED', { detail: 'TCB status differs' });
    }
    return { claims: toClaims(quote, status, pck.fmspc, col, this.root), quote };
  }

  private verifyPck(pem: string, col: VerifiedCollateral, now: Date): VerifiedPck {
    const key = `${col.digest}|${sha256Hex(pem)}`;
    const hit = this.pck.get(key);
    if (hit) {
      const t = now.getTime();
      if (t < hit.window.from || t > hit.window.to)
        throw new PropsError('ERR_EVIDENCE_CERT_EXPIRED', { detail: 'PCK chain' });
      return hit;
    }
    const chain = verifyChain(parsePemChain(pem), this.root, now, 'PCK chain');
    const leaf = chain[0] as X509Certificate;
    if (chain.length < 3 || (chain[1] as X509Certificate).fingerprint256 !== col.pckCaFingerprint) {
      // The PCK CRL in the collateral must be the one of the CA that issued this PCK certificate.
      throw new PropsError('ERR_CRL_INVALID', { detail: 'PCK CRL is from another CA' });
    }
    checkNotRevoked(leaf, col.pckCrl, 'PCK certificate');
    chain.slice(1, -1).forEach((c) => checkNotRevoked(c, col.rootCrl, 'PCK CA'));
    let ext: Buffer;
    let fmspc: string;
    let cpuSvn: Uint8Array;
    let pceSvn: number;
    try {
      ext = dcapUtils.getIntelExtension(Buffer.from(leaf.raw));
      fmspc = Buffer.from(dcapUtils.getFmspc(ext)).toString('hex');
      cpuSvn = new Uint8Array(dcapUtils.getCpuSvn(ext));
      pceSvn = dcapUtils.getPceSvn(ext);
    } catch (e) {
      throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', { detail: 'PCK certificate SGX extension', cause: e });
    }
    const v = chain.map(validity);
    const out: VerifiedPck = {
      leaf,
      fmspc,
      cpuSvn,
      pceSvn,
      window: { from: Math.max(...v.map((x) => x.notBefore)), to: Math.min(...v.map((x) => x.notAfter)) },
    };
    if (this.pck.size >= this.max) this.pck.delete(this.pck.keys().next().value as string);
    this.pck.set(key, out);
    return out;
  }

  private attestKey(raw: Uint8Array): KeyObject {
    const id = Buffer.from(raw).toString('hex');
    let k = this.keys.get(id);
    if (!k) {
      try {
        k = createPublicKey({
          key: {
            kty: 'EC',
            crv: 'P-256',
            x: Buffer.from(raw.subarray(0, 32)).toString('base64url'),
            y: Buffer.from(raw.subarray(32, 64)).toString('base64url'),
          },
          format: 'jwk',
        });
      } catch (e) {
        throw new PropsError('ERR_EVIDENCE_SIGNATURE_INVALID', {
          detail: 'attestation key is not a P-256 point',
          cause: e,
        });
      }
      if (this.keys.size >= this.max) this.keys.delete(this.keys.keys().next().value as string);
      this.keys.set(id, k);
    }
    return k;
  }
}

function p256Verify(key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

type Status = { status: string; advisories: string[] };

function worse(a: Status, b: Status): Status {
  const sa = STATUS_SEVERITY[a.status] ?? 100;
  const sb = STATUS_SEVERITY[b.status] ?? 100;
  const advisories = [...a.advisories];
  for (const x of b.advisories) if (!advisories.includes(x)) advisories.push(x);
  return { status: sb > sa ? b.status : a.status, advisories };
}

function matchQeIdentity(quote: Quote, id: QeIdentity): Status {
  const qe = quote.qeReport;
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  if (hex(qe.mrSigner) !== id.mrsigner.toLowerCase())
    throw new PropsError('ERR_QE_IDENTITY_MISMATCH', { detail: 'MRSIGNER' });
  if (qe.isvProdId !== id.isvprodid) throw new PropsError('ERR_QE_IDENTITY_MISMATCH', { detail: 'ISVPRODID' });
  const mask = Buffer.from(id.miscselectMask, 'hex').readUInt32LE(0);
  const want = Buffer.from(id.miscselect, 'hex').readUInt32LE(0);
  if ((qe.miscSelect & mask) >>> 0 !== (want & mask) >>> 0)
    throw new PropsError('ERR_QE_IDENTITY_MISMATCH', { detail: 'MISCSELECT' });
  const attrs = Buffer.from(id.attributes, 'hex');
  const amask = Buffer.from(id.attributesMask, 'hex');
  for (let i = 0; i < 16; i++) {
    if (((qe.attributes[i] ?? 0) & (amask[i] ?? 0)) !== ((attrs[i] ?? 0) & (amask[i] ?? 0))) {
      throw new PropsError('ERR_QE_IDENTITY_MISMATCH', { detail: 'ATTRIBUTES' });
    }
  }
  if ((qe.attributes[0] ?? 0) & SGX_ATTR_DEBUG)
    throw new PropsError('ERR_QE_IDENTITY_MISMATCH', { detail: 'debug QE' });
  // Levels are ordered newest first; the first one at or below our ISVSVN applies.
  const level = id.tcbLevels.find((l) => qe.isvSvn >= l.tcb.isvsvn);
  if (!level) throw new PropsError('ERR_TCB_LEVEL_NOT_FOUND', { detail: 'QE ISVSVN below every level' });
  return { status: level.tcbStatus, advisories: [...(level.advisoryIDs ?? [])] };
}

function matchTcbLevel(info: TcbInfo, quote: Quote, pck: VerifiedPck): Status {
  const geq = (actual: Uint8Array, req: readonly { svn: number }[]) =>
    req.length === actual.length && req.every((c, i) => (actual[i] ?? 0) >= c.svn);
  for (const level of info.tcbLevels) {
    if (pck.pceSvn < level.tcb.pcesvn) continue;
    if (!geq(pck.cpuSvn, level.tcb.sgxtcbcomponents)) continue;
    if (quote.body.type === 'td') {
      const tdx = level.tcb.tdxtcbcomponents;
      if (!tdx || !geq(quote.body.report.teeTcbSvn, tdx)) continue;
    }
    return { status: level.tcbStatus, advisories: [...(level.advisoryIDs ?? [])] };
  }
  throw new PropsError('ERR_TCB_LEVEL_NOT_FOUND');
}

function toClaims(
  quote: Quote,
  status: Status,
  fmspc: string,
  col: VerifiedCollateral,
  root: X509Certificate,
): DcapClaims {
  const base = {
    simulated: false as const,
    status: status.status,
    advisories: status.advisories,
    rootFingerprint: `0x${Buffer.from(root.fingerprint256.replaceAll(':', ''), 'hex').toString('hex')}` as Hex,
    quoteVersion: quote.version,
    fmspc,
    collateralIssuedAt: new Date(col.issuedAt).toISOString(),
  };
  if (quote.body.type === 'td') {
    const td = quote.body.report;
    const m: Record<string, Hex> = {
      mrtd: toHex(td.mrTd),
      rtmr0: toHex(td.rtmr[0]),
      rtmr1: toHex(td.rtmr[1]),
      rtmr2: toHex(td.rtmr[2]),
      rtmr3: toHex(td.rtmr[3]),
      mrConfigId: toHex(td.mrConfigId),
      mrOwner: toHex(td.mrOwner),
      mrOwnerConfig: toHex(td.mrOwnerConfig),
      mrSeam: toHex(td.mrSeam),
      teeTcbSvn: toHex(td.teeTcbSvn),
    };
    if (td.mrServiceTd) m.mrServiceTd = toHex(td.mrServiceTd);
    return {
      ...base,
      platform: 'tdx',
      debug: ((td.tdAttributes[0] ?? 0) & TD_ATTR_DEBUG) !== 0,
      reportData: toHex(td.reportData),
      measurements: m,
      tdAttributes: toHex(td.tdAttributes),
    };
  }
  const r = quote.body.report;
  return {
    ...base,
    platform: 'sgx',
    debug: ((r.attributes[0] ?? 0) & SGX_ATTR_DEBUG) !== 0,
    reportData: toHex(r.reportData),
    measurements: {
      mrEnclave: toHex(r.mrEnclave),
      mrSigner: toHex(r.mrSigner),
      isvProdId: `0x${r.isvProdId.toString(16).padStart(4, '0')}`,
      isvSvn: `0x${r.isvSvn.toString(16).padStart(4, '0')}`,
    },
    isvSvn: r.isvSvn,
  };
}
