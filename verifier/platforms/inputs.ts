// The extra inputs a real platform's verifier takes beside the evidence bytes (VerifyContext.collateral):
// collateral JSON, certificates, an event log, an expected nonce. Checked here, so each verifier gets types.
import { PropsError } from '../../protocol/index.ts';

export type RealInputs = {
  /** DCAP: @phala/dcap-qvl QuoteCollateralV3 JSON (parsed). */
  collateral?: unknown;
  /** PEM or DER certificates (SEV-SNP VCEK/ASK/ARK, Nitro or NVIDIA root override, NVIDIA chain). */
  certs?: Uint8Array[];
  /** TDX: CCEL bytes or dstack JSON event log (bytes of text, or parsed). */
  eventLog?: unknown;
  /** NVIDIA: the nonce the SPDM request must carry (binds GPU evidence to the CPU evidence). */
  expectedNonce?: Uint8Array;
};

export function realInputs(collateral: unknown): RealInputs {
  if (collateral === undefined) return {};
  if (typeof collateral !== 'object' || collateral === null || Array.isArray(collateral)) {
    throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'verify context inputs' });
  }
  const c = collateral as Record<string, unknown>;
  for (const k of Object.keys(c)) {
    if (!['collateral', 'certs', 'eventLog', 'expectedNonce'].includes(k)) throw new PropsError('ERR_INPUT_MALFORMED', { detail: `unknown input ${k}` });
  }
  if (c.certs !== undefined && !(Array.isArray(c.certs) && c.certs.every((x) => x instanceof Uint8Array))) {
    throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'certs' });
  }
  if (c.expectedNonce !== undefined && !(c.expectedNonce instanceof Uint8Array)) throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'expectedNonce' });
  return c as RealInputs;
}
