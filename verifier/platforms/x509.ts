// Certificate chains and CRLs for the real platforms: node:crypto X509Certificate for chains (native, fast),
// @peculiar/asn1-x509 to parse CRLs (node has no CRL parser) with node:crypto checking their signatures. Every failure is a coded PropsError; nothing is trusted
// unless it chains to a root given by the caller (pinned per platform).
import { X509Certificate, createHash, verify as cryptoVerify } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1 from '@peculiar/asn1-x509';
import { PropsError, toHex, type Hex } from '../../protocol/index.ts';
import { verificationTime } from '../now.ts';

export function sha256Hex(data: Uint8Array | string): Hex {
  return `0x${createHash('sha256').update(data).digest('hex')}`;
}

/** Parses one DER or PEM certificate, or throws `code`. */
export function parseCert(
  data: Uint8Array | string,
  code: 'ERR_EVIDENCE_CHAIN_INVALID' | 'ERR_COLLATERAL_MALFORMED' = 'ERR_EVIDENCE_CHAIN_INVALID',
): X509Certificate {
  try {
    return new X509Certificate(typeof data === 'string' ? data : Buffer.from(data));
  } catch (e) {
    throw new PropsError(code, { detail: 'certificate does not parse', cause: e });
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** Splits a PEM bundle into certificates, in order. */
export function parsePemChain(
  pem: string,
  code: 'ERR_EVIDENCE_CHAIN_INVALID' | 'ERR_COLLATERAL_MALFORMED' = 'ERR_EVIDENCE_CHAIN_INVALID',
): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new PropsError(code, { detail: 'no PEM certificates' });
  return blocks.map((b) => parseCert(b, code));
}

export const certFingerprint = (c: X509Certificate): Hex => sha256Hex(c.raw);

/** The certificate validity window as epoch milliseconds. */
export function validity(c: X509Certificate): { notBefore: number; notAfter: number } {
  return { notBefore: Date.parse(c.validFrom), notAfter: Date.parse(c.validTo) };
}

export function checkValidity(c: X509Certificate, now: Date, what: string): void {
  const { notBefore, notAfter } = validity(c);
  const t = verificationTime(now);
  if (!(t >= notBefore && t <= notAfter)) throw new PropsError('ERR_EVIDENCE_CERT_EXPIRED', { detail: what });
}

// Signature checks of (certificate, issuer) pairs that succeeded, keyed by both DER fingerprints. Certificates are
// immutable, so a pair that verified once verifies forever; validity dates are still checked on every call.
const verifiedLinks = new Set<string>();
const MAX_LINKS = 1024;

function linkVerified(cert: X509Certificate, issuer: X509Certificate): boolean {
  const key = `${cert.fingerprint256}>${issuer.fingerprint256}`;
  if (verifiedLinks.has(key)) return true;
  if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) return false;
  if (verifiedLinks.size >= MAX_LINKS) verifiedLinks.delete(verifiedLinks.values().next().value as string);
  verifiedLinks.add(key);
  return true;
}

/** What RFC 5280 path validation reads from an issuer: basicConstraints, the keyCertSign bit, self-issuance. */
type IssuerConstraints = {
  ca: boolean;
  pathLen: number | undefined;
  /** undefined when the certificate has no keyUsage extension (any use allowed). */
  keyCertSign: boolean | undefined;
  /** Subject and issuer names equal: a CA's own re-key, not counted against a pathLenConstraint (RFC 5280 6.1.4 l). */
  selfIssued: boolean;
};

// Keyed by DER fingerprint, like the links above: issuers are few (intermediates and pinned roots) and immutable.
const issuerConstraints = new Map<string, IssuerConstraints>();

function extension<T>(exts: readonly asn1.Extension[], oid: string, type: new () => T): T | undefined {
  const found = exts.filter((e) => e.extnID === oid);
  if (found.length > 1) throw new RangeError(`duplicate extension ${oid}`);
  const ext = found[0];
  return ext ? AsnConvert.parse(ext.extnValue, type) : undefined;
}

function constraintsOf(c: X509Certificate): IssuerConstraints {
  const cached = issuerConstraints.get(c.fingerprint256);
  if (cached) return cached;
  const tbs = AsnConvert.parse(c.raw, asn1.Certificate).tbsCertificate;
  const exts = tbs.extensions ?? [];
  const bc = extension(exts, asn1.id_ce_basicConstraints, asn1.BasicConstraints);
  const ku = extension(exts, asn1.id_ce_keyUsage, asn1.KeyUsage);
  const name = (n: asn1.Name) => Buffer.from(AsnConvert.serialize(n));
  const out: IssuerConstraints = {
    ca: bc?.cA === true,
    pathLen: bc?.cA === true ? bc.pathLenConstraint : undefined,
    keyCertSign: ku === undefined ? undefined : (ku.toNumber() & asn1.KeyUsageFlags.keyCertSign) !== 0,
    selfIssued: name(tbs.subject).equals(name(tbs.issuer)),
  };
  if (issuerConstraints.size >= MAX_LINKS) issuerConstraints.delete(issuerConstraints.keys().next().value as string);
  issuerConstraints.set(c.fingerprint256, out);
  return out;
}

/**
 * The RFC 5280 rules for the issuer at `full[j]` (leaf first): basicConstraints with cA true, keyCertSign when a
 * keyUsage is present, and no more non-self-issued intermediates below it (full[1..j-1]) than its pathLenConstraint.
 * Each failure is ERR_EVIDENCE_CHAIN_INVALID with a detail naming the rule.
 */
function checkIssuerConstraints(full: readonly X509Certificate[], j: number, what: string): void {
  const issuer = full[j] as X509Certificate;
  let c: IssuerConstraints;
  try {
    c = constraintsOf(issuer);
  } catch (e) {
    throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', { detail: `${what}: issuer ${j} extensions`, cause: e });
  }
  if (!c.ca)
    throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', {
      detail: `${what}: issuer ${j} is not a CA (basicConstraints cA)`,
    });
  if (c.keyCertSign === false)
    throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', {
      detail: `${what}: issuer ${j} keyUsage lacks keyCertSign`,
    });
  if (c.pathLen === undefined) return;
  let below = 0;
  for (let k = 1; k < j; k++) if (!constraintsOf(full[k] as X509Certificate).selfIssued) below++;
  if (below > c.pathLen)
    throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', {
      detail: `${what}: issuer ${j} pathLenConstraint ${c.pathLen} exceeded by ${below} intermediates`,
    });
}

/**
 * Verifies `chain` (leaf first; the root may be included or not) up to `root`: each certificate is issued and
 * signed by the next, every issuer (the root too) is a CA allowed to sign certificates at its depth
 * (checkIssuerConstraints), and each is inside its validity window at `now`. The leaf need not be a CA.
 * Returns the chain with the root appended.
 */
export function verifyChain(
  chain: readonly X509Certificate[],
  root: X509Certificate,
  now: Date,
  what: string,
): X509Certificate[] {
  if (chain.length === 0) throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', { detail: `${what}: empty chain` });
  const full = [...chain];
  const last = full[full.length - 1] as X509Certificate;
  if (last.fingerprint256 !== root.fingerprint256) {
    // A self-signed last certificate that is not our root means the chain ends elsewhere.
    // Ends at another self-signed root, or at a certificate our root did not issue: not our trust anchor.
    if ((last.checkIssued(last) && last.verify(last.publicKey)) || !last.checkIssued(root)) {
      throw new PropsError('ERR_EVIDENCE_ROOT_UNTRUSTED', { detail: what });
    }
    full.push(root);
  }
  for (let i = 0; i < full.length - 1; i++) {
    const cert = full[i] as X509Certificate;
    const issuer = full[i + 1] as X509Certificate;
    checkIssuerConstraints(full, i + 1, what);
    if (!linkVerified(cert, issuer))
      throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', { detail: `${what}: certificate ${i}` });
  }
  if (!linkVerified(root, root)) throw new PropsError('ERR_EVIDENCE_ROOT_UNTRUSTED', { detail: `${what}: root` });
  full.forEach((c, i) => checkValidity(c, now, `${what}: certificate ${i}`));
  return full;
}

export type VerifiedCrl = { issuerFingerprint: string; thisUpdate: number; nextUpdate: number; revoked: Set<string> };

/** Normalised serial: uppercase hex without leading zeros, as encoders print it differently. */
export const normSerial = (s: string): string => s.toUpperCase().replace(/^0+(?=.)/, '');

const SIG_HASH: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384', // ecdsa-with-SHA384
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384', // sha384WithRSAEncryption
};

/** The raw DER of the first element of the outermost SEQUENCE: the signed TBS bytes, exactly as sent. */
function firstChildTlv(der: Uint8Array): Uint8Array {
  const len = (o: number): [number, number] => {
    const b = der[o];
    if (b === undefined) throw new RangeError('DER: truncated');
    if (b < 0x80) return [b, 1];
    const n = b & 0x7f;
    if (n < 1 || n > 4) throw new RangeError('DER: length');
    let v = 0;
    for (let i = 1; i <= n; i++) v = v * 256 + (der[o + i] ?? NaN);
    if (!Number.isFinite(v)) throw new RangeError('DER: truncated');
    return [v, 1 + n];
  };
  if (der[0] !== 0x30) throw new RangeError('DER: not a SEQUENCE');
  const [, outerLenBytes] = len(1);
  const inner = 1 + outerLenBytes;
  const [l, lb] = len(inner + 1);
  const end = inner + 1 + lb + l;
  if (end > der.length) throw new RangeError('DER: truncated');
  return der.subarray(inner, end);
}

/**
 * Authenticates a DER CRL: it parses, is signed by `issuer`, names `issuer` as its issuer, and `now` lies in
 * [thisUpdate, nextUpdate]. A garbage or forged CRL is ERR_CRL_INVALID — the check @phala/dcap-qvl omits.
 */
export function verifyCrl(der: Uint8Array, issuer: X509Certificate, now: Date, what: string): VerifiedCrl {
  let crl: asn1.CertificateList;
  let tbs: Uint8Array;
  try {
    crl = AsnConvert.parse(Buffer.from(der), asn1.CertificateList);
    tbs = firstChildTlv(der);
  } catch (e) {
    throw new PropsError('ERR_CRL_INVALID', { detail: `${what}: does not parse`, cause: e });
  }
  const hash = SIG_HASH[crl.signatureAlgorithm.algorithm];
  if (!hash || crl.tbsCertList.signature.algorithm !== crl.signatureAlgorithm.algorithm) {
    throw new PropsError('ERR_CRL_INVALID', { detail: `${what}: signature algorithm` });
  }
  let ok = false;
  try {
    ok = cryptoVerify(hash, tbs, issuer.publicKey, Buffer.from(crl.signature));
  } catch {
    ok = false;
  }
  if (!ok) throw new PropsError('ERR_CRL_INVALID', { detail: `${what}: signature` });
  const issuerCert = AsnConvert.parse(issuer.raw, asn1.Certificate);
  const sameName = Buffer.from(AsnConvert.serialize(crl.tbsCertList.issuer)).equals(
    Buffer.from(AsnConvert.serialize(issuerCert.tbsCertificate.subject)),
  );
  if (!sameName) throw new PropsError('ERR_CRL_INVALID', { detail: `${what}: issuer name` });
  const thisUpdate = crl.tbsCertList.thisUpdate.getTime().getTime();
  const nextUpdate = crl.tbsCertList.nextUpdate?.getTime().getTime();
  if (nextUpdate === undefined) throw new PropsError('ERR_CRL_INVALID', { detail: `${what}: no nextUpdate` });
  const t = verificationTime(now);
  if (t < thisUpdate || t > nextUpdate) throw new PropsError('ERR_COLLATERAL_EXPIRED', { detail: `${what}: CRL` });
  const revoked = new Set(
    (crl.tbsCertList.revokedCertificates ?? []).map((e) => normSerial(Buffer.from(e.userCertificate).toString('hex'))),
  );
  return { issuerFingerprint: issuer.fingerprint256, thisUpdate, nextUpdate, revoked };
}

export function checkNotRevoked(cert: X509Certificate, crl: VerifiedCrl, what: string): void {
  if (crl.revoked.has(normSerial(cert.serialNumber))) throw new PropsError('ERR_CERT_REVOKED', { detail: what });
}

/** ECDSA raw r||s (P1363) to verify with node:crypto, given an uncompressed or raw public point. */
export { toHex };
