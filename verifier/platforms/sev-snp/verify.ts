// SEV-SNP authentication: VCEK ← ASK ← ARK (RSA-PSS, ARK pinned), the VCEK is this chip's at this TCB, and the
// report's ECDSA P-384 / SHA-384 signature verifies under the VCEK.
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1 from '@peculiar/asn1-x509';
import { PropsError, bytesEqual, toHex, type Hex } from '../../../protocol/index.ts';
import { certFingerprint, parseCert, parsePemChain, verifyChain } from '../x509.ts';
import { parseCertTable, parseReport, POLICY_DEBUG_BIT, SIG_ALGO_ECDSA_P384_SHA384, type Tcb } from './abi.ts';
import { ARK_MILAN_PEM } from './roots.ts';

export const DEFAULT_ARKS: readonly X509Certificate[] = [parseCert(ARK_MILAN_PEM)];

// AMD VCEK extensions (AMD "Versioned Chip Endorsement Key" spec, table 8).
export const OID_BL_SPL = '1.3.6.1.4.1.3704.1.3.1';
export const OID_TEE_SPL = '1.3.6.1.4.1.3704.1.3.2';
export const OID_SNP_SPL = '1.3.6.1.4.1.3704.1.3.3';
export const OID_UCODE_SPL = '1.3.6.1.4.1.3704.1.3.8';
export const OID_HWID = '1.3.6.1.4.1.3704.1.4';

export type SnpClaims = {
  platform: 'sev-snp';
  simulated: false;
  debug: boolean;
  reportData: Hex;
  measurements: Record<string, Hex>;
  rootFingerprint: Hex;
  reportedTcb: Tcb;
  policy: string;
};

/** Splits PEM bundles / DER blobs into certificates. */
export function certsFrom(blobs: readonly Uint8Array[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const b of blobs) {
    const text = new TextDecoder().decode(b);
    if (text.includes('-----BEGIN CERTIFICATE-----')) out.push(...parsePemChain(text));
    else if (b[0] === 0x30) out.push(parseCert(b));
    // Otherwise an SNP certificate table, as configfs-tsm's auxblob or the extended guest request returns.
    else out.push(...parseCertTable(b).map((d) => parseCert(d)));
  }
  const seen = new Set<string>();
  return out.filter((c) => {
    if (seen.has(c.fingerprint256)) return false;
    seen.add(c.fingerprint256);
    return true;
  });
}

function vcekExtensions(vcek: X509Certificate): { hwid?: Uint8Array; tcb: { [K in keyof Tcb]?: number | undefined } } {
  const cert = AsnConvert.parse(vcek.raw, asn1.Certificate);
  const tcb: { [K in keyof Tcb]?: number | undefined } = {};
  let hwid: Uint8Array | undefined;
  const int = (v: Uint8Array) => {
    // DER INTEGER: 02 len value (small, non-negative).
    if (v[0] !== 0x02) return undefined;
    let n = 0;
    for (const x of v.subarray(2, 2 + (v[1] ?? 0))) n = n * 256 + x;
    return n;
  };
  for (const e of cert.tbsCertificate.extensions ?? []) {
    const v = new Uint8Array(e.extnValue.buffer);
    if (e.extnID === OID_HWID) hwid = v.length === 66 && v[0] === 0x04 && v[1] === 0x40 ? v.subarray(2) : v;
    else if (e.extnID === OID_BL_SPL) tcb.bootloader = int(v);
    else if (e.extnID === OID_TEE_SPL) tcb.tee = int(v);
    else if (e.extnID === OID_SNP_SPL) tcb.snp = int(v);
    else if (e.extnID === OID_UCODE_SPL) tcb.microcode = int(v);
  }
  return hwid ? { hwid, tcb } : { tcb };
}

export function verifySnp(
  bytes: Uint8Array,
  certBlobs: readonly Uint8Array[] | undefined,
  now: Date,
  arks: readonly X509Certificate[] = DEFAULT_ARKS,
): SnpClaims {
  const report = parseReport(bytes);
  if (!certBlobs || certBlobs.length === 0)
    throw new PropsError('ERR_COLLATERAL_MISSING', { detail: 'VCEK and ASK certificates' });
  const certs = certsFrom(certBlobs);
  const vcek = certs.find((c) => !c.ca);
  if (!vcek) throw new PropsError('ERR_COLLATERAL_MISSING', { detail: 'VCEK certificate' });
  // The chain: VCEK, then whichever given CA issued the previous one, until a pinned ARK issues it.
  const chain = [vcek];
  for (let i = 0; i < 4; i++) {
    const last = chain[chain.length - 1] as X509Certificate;
    const ark = arks.find((a) => last.checkIssued(a));
    if (ark) {
      verifyChain(chain, ark, now, 'AMD chain');
      return finish(report, vcek, ark);
    }
    const next = certs.find((c) => c.ca && c !== last && !chain.includes(c) && last.checkIssued(c));
    if (!next) break;
    chain.push(next);
  }
  const top = chain[chain.length - 1] as X509Certificate;
  if (top.checkIssued(top)) throw new PropsError('ERR_EVIDENCE_ROOT_UNTRUSTED', { detail: 'AMD chain' });
  throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', { detail: 'AMD chain incomplete' });
}

function finish(report: ReturnType<typeof parseReport>, vcek: X509Certificate, ark: X509Certificate): SnpClaims {
  if (report.signatureAlgo !== SIG_ALGO_ECDSA_P384_SHA384)
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'signature algorithm' });
  let ok = false;
  try {
    ok = cryptoVerify(
      'sha384',
      report.signed,
      { key: vcek.publicKey, dsaEncoding: 'ieee-p1363' },
      report.signatureP1363,
    );
  } catch {
    ok = false;
  }
  if (!ok) throw new PropsError('ERR_EVIDENCE_SIGNATURE_INVALID', { detail: 'SNP report' });
  // The VCEK must be this chip's key at the reported TCB; otherwise another chip's key could vouch for it.
  const ext = vcekExtensions(vcek);
  if (ext.hwid && !bytesEqual(ext.hwid, report.chipId) && !report.chipId.every((b) => b === 0)) {
    throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', { detail: 'VCEK is for another chip' });
  }
  const t = report.reportedTcb;
  if (
    (['bootloader', 'tee', 'snp', 'microcode'] as const).some((k) => ext.tcb[k] !== undefined && ext.tcb[k] !== t[k])
  ) {
    throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', { detail: 'VCEK is for another TCB' });
  }
  return {
    platform: 'sev-snp',
    simulated: false,
    debug: !!((report.policy >> POLICY_DEBUG_BIT) & 1n),
    reportData: toHex(report.reportData),
    measurements: {
      measurement: toHex(report.measurement),
      hostData: toHex(report.hostData),
      idKeyDigest: toHex(report.idKeyDigest),
      chipId: toHex(report.chipId),
    },
    rootFingerprint: certFingerprint(ark),
    reportedTcb: report.reportedTcb,
    policy: `0x${report.policy.toString(16)}`,
  };
}
