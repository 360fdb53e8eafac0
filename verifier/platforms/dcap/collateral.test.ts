// DCAP collateral against a throwaway test PKI shaped like Intel's: root → PCK Platform CA → PCK leaf, and
// root → TCB Signing (a leaf). Whoever may sign TCB info and QE identity decides which platforms count as up to date.
import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs this polyfill
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyCollateral } from './collateral.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2030-01-01T00:00:00Z');
const NOW = new Date('2025-07-04T00:00:00Z');

type Issued = { cert: x509.X509Certificate; key: CryptoKey };
let root: Issued;
let pckCa: Issued;
let pckLeaf: Issued;
let tcbSigning: Issued;
let rootCrl: string;
let pckCrl: string;

const keys = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
const pem = (...certs: Issued[]) => certs.map((c) => c.cert.toString('pem')).join('\n');
const hex = (b: ArrayBuffer) => Buffer.from(b).toString('hex');
const signHex = async (key: CryptoKey, text: string) => hex(await webcrypto.subtle.sign(ALG, key, Buffer.from(text)));

async function issue(serialNumber: string, subject: string, issuer: Issued, ca: boolean): Promise<Issued> {
  const k = await keys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject,
    issuer: issuer.cert.subject,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    publicKey: k.publicKey,
    signingKey: issuer.key,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(ca, undefined, true)],
  });
  return { cert, key: k.privateKey };
}

const TCB_INFO = JSON.stringify({
  id: 'TDX',
  version: 3,
  issueDate: '2025-07-01T00:00:00Z',
  nextUpdate: '2025-08-01T00:00:00Z',
  fmspc: 'B0C06F000000',
  pceId: '0000',
  tcbLevels: [
    {
      tcb: { sgxtcbcomponents: Array(16).fill({ svn: 0 }), tdxtcbcomponents: Array(16).fill({ svn: 0 }), pcesvn: 0 },
      tcbDate: '2025-01-01T00:00:00Z',
      tcbStatus: 'UpToDate',
    },
  ],
});
const QE_IDENTITY = JSON.stringify({
  id: 'TD_QE',
  version: 2,
  issueDate: '2025-07-01T00:00:00Z',
  nextUpdate: '2025-08-01T00:00:00Z',
  miscselect: '00000000',
  miscselectMask: 'FFFFFFFF',
  attributes: '0'.repeat(32),
  attributesMask: '0'.repeat(32),
  mrsigner: '0'.repeat(64),
  isvprodid: 2,
  tcbLevels: [{ tcb: { isvsvn: 0 }, tcbStatus: 'UpToDate' }],
});

/** Collateral with TCB info signed by `tcbSigner` (sent with `tcbChain`) and QE identity by `qeSigner` (`qeChain`). */
async function collateral(
  tcb: { signer: Issued; chain: Issued[] },
  qe: { signer: Issued; chain: Issued[] },
): Promise<Record<string, string>> {
  return {
    pck_crl_issuer_chain: pem(pckCa, root),
    root_ca_crl: rootCrl,
    pck_crl: pckCrl,
    tcb_info_issuer_chain: pem(...tcb.chain),
    tcb_info: TCB_INFO,
    tcb_info_signature: await signHex(tcb.signer.key, TCB_INFO),
    qe_identity_issuer_chain: pem(...qe.chain),
    qe_identity: QE_IDENTITY,
    qe_identity_signature: await signHex(qe.signer.key, QE_IDENTITY),
  };
}

const testRoot = () => new X509Certificate(Buffer.from(root.cert.rawData));
const byTcbSigning = () => ({ signer: tcbSigning, chain: [tcbSigning, root] });

beforeAll(async () => {
  const rk = await keys();
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Test SGX Root CA',
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    keys: rk,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  root = { cert: rootCert, key: rk.privateKey };
  pckCa = await issue('02', 'CN=Test SGX PCK Platform CA', root, true);
  tcbSigning = await issue('03', 'CN=Test SGX TCB Signing', root, false);
  pckLeaf = await issue('04', 'CN=Test SGX PCK Certificate', pckCa, false);
  const crl = async (issuer: Issued) =>
    hex(
      (
        await x509.X509CrlGenerator.create({
          issuer: issuer.cert.subject,
          thisUpdate: NOT_BEFORE,
          nextUpdate: NOT_AFTER,
          signingKey: issuer.key,
          signingAlgorithm: ALG,
        })
      ).rawData,
    );
  rootCrl = await crl(root);
  pckCrl = await crl(pckCa);
});

describe('DCAP collateral signers', () => {
  it('TCB info and QE identity signed by the TCB signing certificate the root issued: accepted', async () => {
    const v = await verifyCollateral(await collateral(byTcbSigning(), byTcbSigning()), NOW, testRoot());
    expect(v.tcbInfo.tcbLevels.map((l) => l.tcbStatus)).toEqual(['UpToDate']);
    expect(v.qeIdentity.id).toBe('TD_QE');
  });

  it('attack: TCB info signed by a PCK key (leaked from a compromised platform) declaring it up to date', async () => {
    const c = await collateral({ signer: pckLeaf, chain: [pckLeaf, pckCa, root] }, byTcbSigning());
    await expect(verifyCollateral(c, NOW, testRoot())).rejects.toMatchObject({
      code: 'ERR_COLLATERAL_SIGNATURE_INVALID',
      detail: 'tcb_info: not signed by a TCB signing certificate the root issued',
    });
  });

  it('attack: QE identity signed by the PCK CA key, a CA rather than the TCB signing leaf', async () => {
    const c = await collateral(byTcbSigning(), { signer: pckCa, chain: [pckCa, root] });
    await expect(verifyCollateral(c, NOW, testRoot())).rejects.toMatchObject({
      code: 'ERR_COLLATERAL_SIGNATURE_INVALID',
      detail: 'qe_identity: not signed by a TCB signing certificate the root issued',
    });
  });

  it('a CRL or signature of an odd number of hex digits is malformed collateral, not a crash', async () => {
    for (const field of ['root_ca_crl', 'pck_crl', 'tcb_info_signature', 'qe_identity_signature']) {
      const c = await collateral(byTcbSigning(), byTcbSigning());
      c[field] = `${c[field]}a`;
      await expect(verifyCollateral(c, NOW, testRoot())).rejects.toMatchObject({ code: 'ERR_COLLATERAL_MALFORMED' });
    }
  });
});
