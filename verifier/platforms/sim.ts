// Verifier for the simulated platform: authenticates the sim quote (attestation key signature, certificate from a
// sim root). It answers `simulated: true` always — the caller's policy decides whether that is acceptable.
import { z } from 'zod';
import { compactVerify } from 'jose';
import {
  parseJsonText,
  parseSimQuote,
  parseWith,
  PropsError,
  sha256,
  toHex,
  fromHex,
  concatBytes,
} from '../../protocol/index.ts';
import { importP256, verifyP256 } from '../webcrypto.ts';
import type { PlatformClaims, PlatformVerifier, VerifyContext } from './types.ts';
import { verificationTime } from '../now.ts';

const uncompressed = z.string().regex(/^0x04[0-9a-f]{128}$/);
const simCollateral = z.strictObject({
  v: z.literal(1),
  kind: z.literal('props-sim-collateral'),
  rootPublicKey: uncompressed,
  chain: z.array(z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)).length(1),
});
const simCert = z.strictObject({
  v: z.literal(1),
  typ: z.literal('props-sim-cert'),
  sub: z.literal('sim-attestation-key'),
  pub: uncompressed,
  iss: z.string().regex(/^0x[0-9a-f]{64}$/),
  nbf: z.number().int(),
  exp: z.number().int(),
});

export const simVerifier: PlatformVerifier = {
  platform: 'sim',
  async verify(quote: Uint8Array, ctx: VerifyContext): Promise<PlatformClaims> {
    const q = parseSimQuote(quote);
    const col = parseWith(simCollateral, ctx.collateral, 'ERR_EVIDENCE_MALFORMED');
    const rootPub = fromHex(col.rootPublicKey);
    const rootFingerprint = toHex(sha256(rootPub));
    const rootKey = await importP256(rootPub, 'ERR_EVIDENCE_CHAIN_INVALID');

    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(col.chain[0] ?? '', rootKey, { algorithms: ['ES256'] }));
    } catch (cause) {
      throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', { detail: 'certificate signature', cause });
    }
    const cert = parseWith(
      simCert,
      parseJsonText(new TextDecoder().decode(payload), 4096),
      'ERR_EVIDENCE_CHAIN_INVALID',
    );
    if (cert.iss !== rootFingerprint)
      throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', { detail: 'issuer is not the root' });
    const now = Math.floor(verificationTime(ctx.now) / 1000);
    if (now < cert.nbf || now > cert.exp) throw new PropsError('ERR_EVIDENCE_CERT_EXPIRED');

    const certified = fromHex(cert.pub);
    const inQuote = concatBytes(Uint8Array.of(4), q.attestationKey);
    if (toHex(certified) !== toHex(inQuote)) {
      throw new PropsError('ERR_EVIDENCE_CHAIN_INVALID', { detail: 'quote key is not the certified key' });
    }
    const ak = await importP256(certified, 'ERR_EVIDENCE_SIGNATURE_INVALID');
    if (!(await verifyP256(ak, q.signature, q.signed))) throw new PropsError('ERR_EVIDENCE_SIGNATURE_INVALID');

    return {
      platform: 'sim',
      simulated: true,
      debug: q.debug,
      reportData: toHex(q.reportData),
      measurements: {
        mrtd: toHex(q.mrtd),
        rtmr0: toHex(q.rtmr[0]),
        rtmr1: toHex(q.rtmr[1]),
        rtmr2: toHex(q.rtmr[2]),
        rtmr3: toHex(q.rtmr[3]),
        mrconfigid: toHex(q.mrconfigid),
      },
      rootFingerprint,
    };
  },
};
