// Chain checks of x509.ts against a throwaway PKI made here: every issuer must be a CA (basicConstraints cA), hold
// keyCertSign when it has a keyUsage, and have no more intermediates below it than its pathLenConstraint allows.
import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs this polyfill
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyChain } from './x509.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2030-01-01T00:00:00Z');
const NOW = new Date('2025-07-04T00:00:00Z');
const { keyCertSign, cRLSign, digitalSignature } = x509.KeyUsageFlags;

type Issued = { cert: x509.X509Certificate; key: CryptoKey; node: X509Certificate };
/** basicConstraints as [cA, pathLen] or absent; keyUsage flags or absent. */
type Profile = { bc?: [boolean, number | undefined]; ku?: number };

let serial = 1;
const keys = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

function extensions(p: Profile): x509.Extension[] {
  const out: x509.Extension[] = [];
  if (p.bc) out.push(new x509.BasicConstraintsExtension(p.bc[0], p.bc[1], true));
  if (p.ku !== undefined) out.push(new x509.KeyUsagesExtension(p.ku, true));
  return out;
}

async function rootCa(p: Profile = { bc: [true, undefined], ku: keyCertSign | cRLSign }): Promise<Issued> {
  const k = await keys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    name: `CN=Test Root ${serial}`,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    keys: k,
    signingAlgorithm: ALG,
    extensions: extensions(p),
  });
  return { cert, key: k.privateKey, node: new X509Certificate(Buffer.from(cert.rawData)) };
}

async function issue(issuer: Issued, p: Profile, subject = `CN=Test ${serial}`): Promise<Issued> {
  const k = await keys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    subject,
    issuer: issuer.cert.subject,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    publicKey: k.publicKey,
    signingKey: issuer.key,
    signingAlgorithm: ALG,
    extensions: extensions(p),
  });
  return { cert, key: k.privateKey, node: new X509Certificate(Buffer.from(cert.rawData)) };
}

const CA: Profile = { bc: [true, undefined], ku: keyCertSign | cRLSign };
const LEAF: Profile = { bc: [false, undefined], ku: digitalSignature };

/** verifyChain's outcome: 'ok', or the code and detail it threw. */
function outcome(chain: Issued[], root: Issued): string {
  try {
    verifyChain(
      chain.map((c) => c.node),
      root.node,
      NOW,
      'test chain',
    );
    return 'ok';
  } catch (e) {
    const err = e as { code?: string; detail?: string };
    return `${err.code}: ${err.detail}`;
  }
}

describe('verifyChain issuer constraints', () => {
  it('Certificates: a chain whose issuers are CAs allowed to sign at their depth verifies; the leaf need not be a CA', async () => {
    const root = await rootCa({ bc: [true, 1], ku: keyCertSign | cRLSign });
    const ca = await issue(root, { bc: [true, 0], ku: keyCertSign });
    const leaf = await issue(ca, LEAF);
    const bare = await issue(ca, {}); // no basicConstraints, no keyUsage
    expect(outcome([leaf, ca], root)).toBe('ok');
    expect(outcome([leaf, ca, root], root)).toBe('ok');
    expect(outcome([bare, ca], root)).toBe('ok');
    // An issuer without a keyUsage extension may sign certificates.
    const noKu = await issue(root, { bc: [true, undefined] });
    expect(outcome([await issue(noKu, LEAF), noKu], root)).toBe('ok');
  });

  it('Certificates: an issuer whose basicConstraints has cA false, or that has none, is refused', async () => {
    const root = await rootCa();
    const notCa = await issue(root, { bc: [false, undefined], ku: keyCertSign });
    expect(outcome([await issue(notCa, LEAF), notCa], root)).toBe(
      'ERR_EVIDENCE_CHAIN_INVALID: test chain: issuer 1 is not a CA (basicConstraints cA)',
    );
    const noBc = await issue(root, { ku: keyCertSign });
    expect(outcome([await issue(noBc, LEAF), noBc], root)).toBe(
      'ERR_EVIDENCE_CHAIN_INVALID: test chain: issuer 1 is not a CA (basicConstraints cA)',
    );
    // The root too is an issuer.
    const rootNotCa = await rootCa({ bc: [false, undefined], ku: keyCertSign });
    expect(outcome([await issue(rootNotCa, LEAF)], rootNotCa)).toBe(
      'ERR_EVIDENCE_CHAIN_INVALID: test chain: issuer 1 is not a CA (basicConstraints cA)',
    );
  });

  it('Certificates: an issuer whose keyUsage lacks keyCertSign is refused', async () => {
    const root = await rootCa();
    const noSign = await issue(root, { bc: [true, undefined], ku: digitalSignature | cRLSign });
    expect(outcome([await issue(noSign, LEAF), noSign], root)).toBe(
      'ERR_EVIDENCE_CHAIN_INVALID: test chain: issuer 1 keyUsage lacks keyCertSign',
    );
    const rootNoSign = await rootCa({ bc: [true, undefined], ku: cRLSign });
    const ca = await issue(rootNoSign, CA);
    const leaf = await issue(ca, LEAF);
    expect(outcome([leaf, ca, rootNoSign], rootNoSign)).toBe(
      'ERR_EVIDENCE_CHAIN_INVALID: test chain: issuer 2 keyUsage lacks keyCertSign',
    );
    // Sent without the root, the chain does not even reach it: OpenSSL's issuer match also wants keyCertSign.
    expect(outcome([leaf, ca], rootNoSign)).toBe('ERR_EVIDENCE_ROOT_UNTRUSTED: test chain');
  });

  it('Certificates: a chain longer than an issuer pathLenConstraint allows is refused', async () => {
    // A root with pathLen 0 may issue only leaves: one intermediate below it is one too many.
    const root0 = await rootCa({ bc: [true, 0], ku: keyCertSign });
    const ca = await issue(root0, CA);
    expect(outcome([await issue(root0, LEAF)], root0)).toBe('ok');
    expect(outcome([await issue(ca, LEAF), ca], root0)).toBe(
      'ERR_EVIDENCE_CHAIN_INVALID: test chain: issuer 2 pathLenConstraint 0 exceeded by 1 intermediates',
    );
    // An intermediate with pathLen 0 under a root without one: a second intermediate below it is refused.
    const root = await rootCa();
    const upper = await issue(root, { bc: [true, 0], ku: keyCertSign });
    const lower = await issue(upper, CA);
    expect(outcome([await issue(lower, LEAF), lower, upper], root)).toBe(
      'ERR_EVIDENCE_CHAIN_INVALID: test chain: issuer 2 pathLenConstraint 0 exceeded by 1 intermediates',
    );
    // pathLen 1 allows exactly that one.
    const upper1 = await issue(root, { bc: [true, 1], ku: keyCertSign });
    const lower1 = await issue(upper1, CA);
    expect(outcome([await issue(lower1, LEAF), lower1, upper1], root)).toBe('ok');
  });

  it('Certificates: a self-issued intermediate (a CA re-keyed under its own name) does not count against pathLen', async () => {
    const root = await rootCa();
    const ca = await issue(root, { bc: [true, 0], ku: keyCertSign }, 'CN=Rekeyed CA');
    const rekeyed = await issue(ca, CA, 'CN=Rekeyed CA');
    expect(outcome([await issue(rekeyed, LEAF), rekeyed, ca], root)).toBe('ok');
  });
});
