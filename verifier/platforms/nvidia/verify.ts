// NVIDIA H100 authentication: the device certificate chain to the pinned NVIDIA Device Identity CA, and the
// SPDM measurement signature (ECDSA P-384 / SHA-384 over request || response) under the leaf (GPU attestation key).
// Not here, because they need NVIDIA's online services: OCSP revocation and fetching RIMs. So the SPDM measurement
// blocks are reported but compared with no reference values; what the policy can pin is the driver version (from
// the signed opaque data) and the device root (nvidia/validate.ts).
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { PropsError, bytesEqual, toHex, type Hex } from '../../../protocol/index.ts';
import { certFingerprint, parseCert, verifyChain } from '../x509.ts';
import { certsFrom } from '../sev-snp/verify.ts';
import { OPAQUE_DRIVER_VERSION, OPAQUE_VBIOS_VERSION, parseSpdmReport } from './abi.ts';
import { NVIDIA_DEVICE_ROOT_PEM } from './roots.ts';

export const NVIDIA_DEVICE_ROOT: X509Certificate = parseCert(NVIDIA_DEVICE_ROOT_PEM);

export type NvidiaClaims = {
  platform: 'nvidia';
  simulated: false;
  debug: boolean;
  reportData: Hex;
  measurements: Record<string, Hex>;
  rootFingerprint: Hex;
  driverVersion?: string;
  vbiosVersion?: Hex;
};

export function verifyNvidia(
  input: Uint8Array,
  certBlobs: readonly Uint8Array[] | undefined,
  now: Date,
  expectedNonce?: Uint8Array,
  root: X509Certificate = NVIDIA_DEVICE_ROOT,
): NvidiaClaims {
  const report = parseSpdmReport(input);
  if (!certBlobs || certBlobs.length === 0)
    throw new PropsError('ERR_COLLATERAL_MISSING', { detail: 'GPU device certificate chain' });
  const chain = certsFrom(certBlobs);
  verifyChain(chain, root, now, 'NVIDIA device chain');
  const leaf = chain[0] as X509Certificate;
  let ok = false;
  try {
    ok = cryptoVerify('sha384', report.signed, { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, report.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new PropsError('ERR_EVIDENCE_SIGNATURE_INVALID', { detail: 'SPDM measurements' });
  // The requester's nonce binds this GPU report to the CPU evidence that carries it.
  if (expectedNonce !== undefined && !bytesEqual(expectedNonce, report.requestNonce))
    throw new PropsError('ERR_EVIDENCE_NONCE_MISMATCH');
  const measurements: Record<string, Hex> = {};
  for (const [i, v] of [...report.measurements].sort((a, b) => a[0] - b[0])) measurements[`m${i}`] = toHex(v);
  const drv = report.opaque.get(OPAQUE_DRIVER_VERSION);
  const vbios = report.opaque.get(OPAQUE_VBIOS_VERSION);
  const claims: NvidiaClaims = {
    platform: 'nvidia',
    simulated: false,
    debug: false,
    reportData: toHex(report.requestNonce),
    measurements,
    rootFingerprint: certFingerprint(root),
  };
  if (drv) claims.driverVersion = new TextDecoder().decode(drv).replace(/\0+$/, '');
  if (vbios) claims.vbiosVersion = toHex(vbios);
  return claims;
}
