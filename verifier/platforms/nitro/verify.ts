// AWS Nitro authentication: the document's certificate chains through its cabundle to the pinned AWS root,
// and the COSE_Sign1 ES384 signature verifies under the leaf. Policy (PCRs, debug, age) is in validate.ts.
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { PropsError, toHex, type Hex } from '../../../protocol/index.ts';
import { certFingerprint, parseCert, verifyChain } from '../x509.ts';
import { parseCoseSign1, sigStructure } from './abi.ts';
import { AWS_NITRO_ROOT_G1_PEM } from './roots.ts';

export const AWS_NITRO_ROOT_G1: X509Certificate = parseCert(AWS_NITRO_ROOT_G1_PEM);

export type NitroClaims = {
  platform: 'nitro';
  simulated: false;
  debug: boolean;
  reportData: Hex;
  measurements: Record<string, Hex>;
  rootFingerprint: Hex;
  timestamp: string;
  moduleId: string;
  nonce?: Hex;
  publicKey?: Hex;
};

export function verifyNitro(input: Uint8Array, now: Date, root: X509Certificate = AWS_NITRO_ROOT_G1): NitroClaims {
  const cose = parseCoseSign1(input);
  const { doc } = cose;
  const leaf = parseCert(doc.certificate);
  // cabundle is root first; the chain we check is leaf first. Its root must be our pinned one (not merely cabundle[0]).
  const bundle = doc.cabundle.map((c) => parseCert(c));
  const chain = [leaf, ...bundle.slice(1).reverse()];
  verifyChain(chain, root, now, 'Nitro chain');
  let ok = false;
  try {
    ok = cryptoVerify(
      'sha384',
      sigStructure(cose.protectedRaw, cose.payloadRaw),
      { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' },
      cose.signature,
    );
  } catch {
    ok = false;
  }
  if (!ok) throw new PropsError('ERR_EVIDENCE_SIGNATURE_INVALID', { detail: 'COSE_Sign1' });
  const measurements: Record<string, Hex> = {};
  for (const [k, v] of Object.entries(doc.pcrs).sort((a, b) => Number(a[0]) - Number(b[0])))
    measurements[`pcr${Number(k)}`] = toHex(v);
  const zero = (h: Hex | undefined) => h !== undefined && /^0x0*$/.test(h);
  const claims: NitroClaims = {
    platform: 'nitro',
    simulated: false,
    // AWS: an enclave started with --debug-mode reports PCR0-2 as all zeros.
    debug: zero(measurements.pcr0) && zero(measurements.pcr1) && zero(measurements.pcr2),
    reportData: toHex(doc.user_data ?? new Uint8Array()),
    measurements,
    rootFingerprint: certFingerprint(root),
    timestamp: new Date(Number(doc.timestamp)).toISOString(),
    moduleId: doc.module_id,
  };
  if (doc.nonce) claims.nonce = toHex(doc.nonce);
  if (doc.public_key) claims.publicKey = toHex(doc.public_key);
  return claims;
}
