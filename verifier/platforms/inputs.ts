// The extra inputs a real platform's verifier takes beside the evidence bytes (VerifyContext.collateral):
// collateral JSON, certificates, an event log, an expected nonce. They come either in memory (bytes, from the CLI)
// or in the JSON form an Evidence record carries in its `collateral` field, so audit bundles verify offline.
import { z } from 'zod';
import { fromBase64, parseWith, PropsError } from '../../protocol/index.ts';

export type RealInputs = {
  /** DCAP: @phala/dcap-qvl QuoteCollateralV3 JSON (parsed). */
  collateral?: unknown;
  /** PEM or DER certificates (SEV-SNP VCEK/ASK/ARK, NVIDIA device chain). */
  certs?: Uint8Array[];
  /** TDX: CCEL bytes or dstack JSON event log (bytes of text, a JSON string, or parsed). */
  eventLog?: unknown;
  /** NVIDIA: the nonce the SPDM request must carry (binds GPU evidence to the CPU evidence). */
  expectedNonce?: Uint8Array;
};

/**
 * JSON form (Evidence.collateral): certs as PEM text or base64 DER; eventLog as dstack JSON text or base64 CCEL;
 * expectedNonce as 0x-hex.
 */
export const realInputsJson = z.strictObject({
  collateral: z.record(z.string(), z.unknown()).optional(),
  certs: z.array(z.string().min(1).max(1_000_000)).max(16).optional(),
  eventLog: z.union([z.string().max(8_000_000), z.array(z.unknown())]).optional(),
  expectedNonce: z
    .string()
    .regex(/^0x([0-9a-fA-F]{2}){1,64}$/)
    .optional(),
});
export type RealInputsJson = z.infer<typeof realInputsJson>;

const b64 = (s: string, what: string): Uint8Array => {
  try {
    return fromBase64(s.replace(/\s+/g, ''));
  } catch (e) {
    throw new PropsError('ERR_INPUT_MALFORMED', { detail: what, cause: e });
  }
};

function fromJson(j: RealInputsJson): RealInputs {
  const out: RealInputs = {};
  if (j.collateral !== undefined) out.collateral = j.collateral;
  if (j.certs)
    out.certs = j.certs.map((c) => (c.includes('-----BEGIN') ? new TextEncoder().encode(c) : b64(c, 'certs')));
  if (j.eventLog !== undefined)
    out.eventLog =
      typeof j.eventLog === 'string' && !j.eventLog.trimStart().startsWith('[')
        ? b64(j.eventLog, 'eventLog')
        : j.eventLog;
  if (j.expectedNonce) out.expectedNonce = new Uint8Array(Buffer.from(j.expectedNonce.slice(2), 'hex'));
  return out;
}

/** Accepts in-memory inputs or their JSON form; anything else is ERR_INPUT_MALFORMED. */
export function realInputs(collateral: unknown): RealInputs {
  if (collateral === undefined) return {};
  if (typeof collateral !== 'object' || collateral === null || Array.isArray(collateral)) {
    throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'verify context inputs' });
  }
  const c = collateral as Record<string, unknown>;
  for (const k of Object.keys(c)) {
    if (!['collateral', 'certs', 'eventLog', 'expectedNonce'].includes(k))
      throw new PropsError('ERR_INPUT_MALFORMED', { detail: `unknown input ${k}` });
  }
  const inMemory =
    (Array.isArray(c.certs) && c.certs.some((x) => x instanceof Uint8Array)) ||
    c.expectedNonce instanceof Uint8Array ||
    c.eventLog instanceof Uint8Array;
  if (!inMemory) return fromJson(parseWith(realInputsJson, c, 'ERR_INPUT_MALFORMED'));
  if (c.certs !== undefined && !(Array.isArray(c.certs) && c.certs.every((x) => x instanceof Uint8Array))) {
    throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'certs' });
  }
  if (c.expectedNonce !== undefined && !(c.expectedNonce instanceof Uint8Array))
    throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'expectedNonce' });
  return c as RealInputs;
}
