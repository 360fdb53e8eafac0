// DCAP collateral (PCS TCB info, QE identity, CRLs, issuer chains) authenticated once and cached by digest.
// This is where @phala/dcap-qvl is wrapped: it never checks CRL signatures or dates; here every CRL must be
// signed by its issuer (which chains to the pinned Intel root) and be current at `now`.
import { createRequire } from 'node:module';
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { PropsError, fromHex, parseWith, type Hex } from '../../../protocol/index.ts';
import {
  checkNotRevoked,
  parseCert,
  parsePemChain,
  sha256Hex,
  validity,
  verifyChain,
  verifyCrl,
  type VerifiedCrl,
} from '../x509.ts';
import { verificationTime } from '../../now.ts';

const require = createRequire(import.meta.url);
// dcap-qvl ships Intel's SGX Root CA DER; we pin it from there rather than copy it.
const dcapConstants = require('@phala/dcap-qvl/src/constants.js') as { TRUSTED_ROOT_CA_DER: Buffer };

export const INTEL_SGX_ROOT_CA: X509Certificate = parseCert(new Uint8Array(dcapConstants.TRUSTED_ROOT_CA_DER));

// Whole bytes only: an odd digit count is malformed collateral, not a signature that fails to check.
const hexString = z.string().regex(/^(0x)?(?:[0-9a-fA-F]{2})+$/);

/** The @phala/dcap-qvl "QuoteCollateralV3" JSON shape (hex CRLs, PEM chains, signed JSON strings). */
export const dcapCollateralSchema = z.object({
  pck_crl_issuer_chain: z.string().min(1),
  root_ca_crl: hexString,
  pck_crl: hexString,
  tcb_info_issuer_chain: z.string().min(1),
  tcb_info: z.string().min(2),
  tcb_info_signature: hexString,
  qe_identity_issuer_chain: z.string().min(1),
  qe_identity: z.string().min(2),
  qe_identity_signature: hexString,
});
export type DcapCollateral = z.infer<typeof dcapCollateralSchema>;

const svn = z.number().int().min(0).max(65535);
const tcbStatus = z.string().min(1).max(64);
const isoDate = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'expected a date');

export const tcbInfoSchema = z.object({
  id: z.enum(['SGX', 'TDX']),
  version: z.number().int(),
  issueDate: isoDate,
  nextUpdate: isoDate,
  fmspc: z.string().regex(/^[0-9a-fA-F]{12}$/),
  pceId: z.string(),
  tcbLevels: z
    .array(
      z.object({
        tcb: z.object({
          sgxtcbcomponents: z.array(z.object({ svn })).length(16),
          tdxtcbcomponents: z.array(z.object({ svn })).length(16).optional(),
          pcesvn: svn,
        }),
        tcbDate: z.string(),
        tcbStatus,
        advisoryIDs: z.array(z.string()).optional(),
      }),
    )
    .min(1),
});
export type TcbInfo = z.infer<typeof tcbInfoSchema>;

export const qeIdentitySchema = z.object({
  id: z.enum(['QE', 'TD_QE']),
  version: z.number().int(),
  issueDate: isoDate,
  nextUpdate: isoDate,
  miscselect: z.string().regex(/^[0-9a-fA-F]{8}$/),
  miscselectMask: z.string().regex(/^[0-9a-fA-F]{8}$/),
  attributes: z.string().regex(/^[0-9a-fA-F]{32}$/),
  attributesMask: z.string().regex(/^[0-9a-fA-F]{32}$/),
  mrsigner: z.string().regex(/^[0-9a-fA-F]{64}$/),
  isvprodid: svn,
  tcbLevels: z
    .array(z.object({ tcb: z.object({ isvsvn: svn }), tcbStatus, advisoryIDs: z.array(z.string()).optional() }))
    .min(1),
});
export type QeIdentity = z.infer<typeof qeIdentitySchema>;

export type VerifiedCollateral = {
  digest: Hex;
  tcbInfo: TcbInfo;
  qeIdentity: QeIdentity;
  rootCrl: VerifiedCrl;
  pckCrl: VerifiedCrl;
  /** Fingerprint of the PCK CRL issuer (Intel SGX PCK Platform/Processor CA). */
  pckCaFingerprint: string;
  /** When TCB info, QE identity and both CRLs are all current (epoch ms). */
  dataWindow: { from: number; to: number };
  /** When every certificate used to check the collateral is valid (epoch ms). */
  certWindow: { from: number; to: number };
  /** The older of the TCB info and QE identity issue dates (epoch ms), for the policy's maximum age. */
  issuedAt: number;
};

const bytesOfHex = (h: string): Uint8Array => fromHex(h.startsWith('0x') ? h : `0x${h}`);

function parseJsonField<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new PropsError('ERR_COLLATERAL_MALFORMED', { detail: `${what}: not JSON`, cause: e });
  }
  return parseWith(schema, v, 'ERR_COLLATERAL_MALFORMED');
}

function checkSignedJson(cert: X509Certificate, text: string, sigHex: string, what: string): void {
  const sig = bytesOfHex(sigHex);
  let ok = false;
  try {
    ok =
      sig.length === 64 &&
      cryptoVerify('sha256', Buffer.from(text, 'utf8'), { key: cert.publicKey, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    ok = false;
  }
  if (!ok) throw new PropsError('ERR_COLLATERAL_SIGNATURE_INVALID', { detail: what });
}

/**
 * The signer of TCB info and QE identity: Intel's TCB Signing certificate, a leaf the root issues itself. Chaining to
 * the root is not enough: a PCK key (which a compromised platform leaks) also chains to it, and could otherwise vouch
 * for its own platform's TCB as up to date. So the verified chain must be exactly [signer, root], the signer no CA.
 */
function tcbSigningCert(chain: readonly X509Certificate[], what: string): X509Certificate {
  const signer = chain[0] as X509Certificate;
  if (chain.length !== 2 || signer.ca)
    throw new PropsError('ERR_COLLATERAL_SIGNATURE_INVALID', {
      detail: `${what}: not signed by a TCB signing certificate the root issued`,
    });
  return signer;
}

function inWindow(now: Date, w: { from: number; to: number }): boolean {
  const t = now.getTime();
  return t >= w.from && t <= w.to;
}

/** Checks one authenticated collateral entry against `now`, in the order that names the reason best. */
export function checkCollateralTimes(c: VerifiedCollateral, now: Date): void {
  if (!inWindow(now, c.dataWindow))
    throw new PropsError('ERR_COLLATERAL_EXPIRED', { detail: 'TCB info, QE identity or CRL' });
  if (!inWindow(now, c.certWindow))
    throw new PropsError('ERR_EVIDENCE_CERT_EXPIRED', { detail: 'collateral signing certificate' });
}

/** Authenticates collateral at `now`. Pure (no caching); see CollateralCache. */
export async function verifyCollateral(
  input: unknown,
  now: Date,
  root: X509Certificate = INTEL_SGX_ROOT_CA,
): Promise<VerifiedCollateral> {
  if (input === undefined || input === null) throw new PropsError('ERR_COLLATERAL_MISSING');
  const col = parseWith(dcapCollateralSchema, input, 'ERR_COLLATERAL_MALFORMED');
  const digest = collateralDigest(col, root);
  const tcbInfo = parseJsonField(tcbInfoSchema, col.tcb_info, 'tcb_info');
  const qeIdentity = parseJsonField(qeIdentitySchema, col.qe_identity, 'qe_identity');

  // Dates of the signed data first: "collateral expired" is the most useful reason when it applies.
  const tcbFrom = Date.parse(tcbInfo.issueDate);
  const tcbTo = Date.parse(tcbInfo.nextUpdate);
  const qeFrom = Date.parse(qeIdentity.issueDate);
  const qeTo = Date.parse(qeIdentity.nextUpdate);
  const t = verificationTime(now);
  if (t < tcbFrom || t > tcbTo) throw new PropsError('ERR_COLLATERAL_EXPIRED', { detail: 'TCB info' });
  if (t < qeFrom || t > qeTo) throw new PropsError('ERR_COLLATERAL_EXPIRED', { detail: 'QE identity' });

  // Chains first (a foreign root is named as such), then the CRLs they sign, then revocation and signatures.
  const pckCaChain = verifyChain(
    parsePemChain(col.pck_crl_issuer_chain, 'ERR_COLLATERAL_MALFORMED'),
    root,
    now,
    'PCK CRL issuer chain',
  );
  const tcbChain = verifyChain(
    parsePemChain(col.tcb_info_issuer_chain, 'ERR_COLLATERAL_MALFORMED'),
    root,
    now,
    'TCB info chain',
  );
  const qeChain = verifyChain(
    parsePemChain(col.qe_identity_issuer_chain, 'ERR_COLLATERAL_MALFORMED'),
    root,
    now,
    'QE identity chain',
  );
  const rootCrl = verifyCrl(bytesOfHex(col.root_ca_crl), root, now, 'root CA CRL');
  const pckCa = pckCaChain[0] as X509Certificate;
  const pckCrl = verifyCrl(bytesOfHex(col.pck_crl), pckCa, now, 'PCK CRL');
  for (const c of [...pckCaChain.slice(0, -1), ...tcbChain.slice(0, -1), ...qeChain.slice(0, -1)])
    checkNotRevoked(c, rootCrl, 'collateral signing certificate');
  checkSignedJson(tcbSigningCert(tcbChain, 'tcb_info'), col.tcb_info, col.tcb_info_signature, 'tcb_info');
  checkSignedJson(tcbSigningCert(qeChain, 'qe_identity'), col.qe_identity, col.qe_identity_signature, 'qe_identity');

  const certs = [...pckCaChain, ...tcbChain, ...qeChain].map(validity);
  return {
    digest,
    tcbInfo,
    qeIdentity,
    rootCrl,
    pckCrl,
    pckCaFingerprint: pckCa.fingerprint256,
    dataWindow: {
      from: Math.max(tcbFrom, qeFrom, rootCrl.thisUpdate, pckCrl.thisUpdate),
      to: Math.min(tcbTo, qeTo, rootCrl.nextUpdate, pckCrl.nextUpdate),
    },
    certWindow: { from: Math.max(...certs.map((c) => c.notBefore)), to: Math.min(...certs.map((c) => c.notAfter)) },
    issuedAt: Math.min(tcbFrom, qeFrom),
  };
}

export function collateralDigest(col: DcapCollateral, root: X509Certificate): Hex {
  const fields = [
    root.fingerprint256,
    col.pck_crl_issuer_chain,
    col.root_ca_crl,
    col.pck_crl,
    col.tcb_info_issuer_chain,
    col.tcb_info,
    col.tcb_info_signature,
    col.qe_identity_issuer_chain,
    col.qe_identity,
    col.qe_identity_signature,
  ];
  return sha256Hex(fields.map((f) => `${f.length}:${f}`).join('|'));
}

/**
 * Verified collateral keyed by digest: authenticated once, then only its time windows are re-checked.
 * Only successes are cached; the cache is bounded (oldest evicted first).
 */
export class CollateralCache {
  private readonly byDigest = new Map<Hex, VerifiedCollateral>();
  constructor(
    private readonly root: X509Certificate = INTEL_SGX_ROOT_CA,
    private readonly max = 64,
  ) {}

  async get(input: unknown, now: Date): Promise<VerifiedCollateral> {
    if (input === undefined || input === null) throw new PropsError('ERR_COLLATERAL_MISSING');
    const col = parseWith(dcapCollateralSchema, input, 'ERR_COLLATERAL_MALFORMED');
    const digest = collateralDigest(col, this.root);
    let hit = this.byDigest.get(digest);
    if (hit) {
      checkCollateralTimes(hit, now);
    } else {
      hit = await verifyCollateral(col, now, this.root);
      if (this.byDigest.size >= this.max) this.byDigest.delete(this.byDigest.keys().next().value as Hex);
      this.byDigest.set(digest, hit);
    }
    return hit;
  }
}
