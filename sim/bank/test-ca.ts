// A throwaway X.509 test CA (P-256), made in memory at start so the bank-portal fixture speaks real TLS without any
// certificate on disk. node:crypto cannot issue certificates, so @peculiar/x509 builds them over WebCrypto.
import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs this polyfill
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export type IssuedCert = { certPem: string; keyPem: string; der: Uint8Array };

export type TestCa = {
  name: string;
  certPem: string;
  der: Uint8Array;
  /** Issues a server certificate for exactly these DNS names (a name may be a wildcard, for refusal tests). */
  issueServer(dnsNames: readonly string[], opts?: { notBefore?: Date; notAfter?: Date }): Promise<IssuedCert>;
};

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f; // a positive INTEGER
  return b.toString('hex');
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey));
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

/**
 * Makes a self-signed CA valid from `now` − 1 h to `now` + 1 day (a test CA needs no longer life). Node's TLS stack
 * checks validity against the wall clock, which no test can inject, so when an injected `now` lies elsewhere the
 * window is widened to cover the wall clock too (tests pinned to a past date keep passing on later days).
 */
export async function createTestCa(opts: { name?: string; now?: Date } = {}): Promise<TestCa> {
  const name = opts.name ?? 'Props Test Bank CA';
  const wall = Date.now();
  const at = opts.now?.getTime() ?? wall;
  const from = new Date(Math.min(at, wall) - 3600_000);
  const until = new Date(Math.max(at, wall) + 86_400_000);
  const caKeys = (await webcrypto.subtle.generateKey(EC_ALG, false, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: from,
    notAfter: until,
    keys: caKeys,
    signingAlgorithm: EC_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  return {
    name,
    certPem: ca.toString('pem'),
    der: new Uint8Array(ca.rawData),
    async issueServer(dnsNames, o = {}) {
      const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${dnsNames[0] ?? 'server'}`,
        issuer: ca.subject,
        notBefore: o.notBefore ?? from,
        notAfter: o.notAfter ?? until,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: EC_ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value }))),
          await x509.AuthorityKeyIdentifierExtension.create(ca),
        ],
      });
      return {
        certPem: cert.toString('pem'),
        keyPem: await pkcs8Pem(keys.privateKey),
        der: new Uint8Array(cert.rawData),
      };
    },
  };
}
