// AWS Nitro attestation document: COSE_Sign1 (RFC 9052 §4.2) whose payload is the NSM AttestationDocument
// (aws-nitro-enclaves-nsm-api, "Attestation document" CDDL). Parsed with cbor-x; shapes checked with zod.
import { decode } from 'cbor-x';
import { z } from 'zod';
import { PropsError, parseWith } from '../../../protocol/index.ts';

export const COSE_SIGN1_TAG = 18;
export const COSE_HEADER_ALG = 1;
export const COSE_ALG_ES384 = -35;
export const ES384_SIG_SIZE = 96;
export const MAX_DOCUMENT = 64 * 1024;

const bytes = z.instanceof(Uint8Array);

export const attestationDocumentSchema = z.object({
  module_id: z.string().min(1),
  digest: z.literal('SHA384'),
  timestamp: z.union([z.number().int().positive(), z.bigint()]),
  pcrs: z.record(z.string().regex(/^\d{1,2}$/), bytes),
  certificate: bytes,
  cabundle: z.array(bytes).min(1),
  public_key: bytes.nullable().optional(),
  user_data: bytes.nullable().optional(),
  nonce: bytes.nullable().optional(),
});
export type AttestationDocument = z.infer<typeof attestationDocumentSchema>;

export type CoseSign1 = {
  protectedRaw: Uint8Array;
  payloadRaw: Uint8Array;
  signature: Uint8Array;
  doc: AttestationDocument;
};

function cbor(b: Uint8Array, what: string): unknown {
  try {
    return decode(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  } catch (e) {
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: `${what}: not CBOR`, cause: e });
  }
}

export function parseCoseSign1(input: Uint8Array): CoseSign1 {
  if (!(input instanceof Uint8Array)) throw new TypeError('document: expected Uint8Array');
  if (input.length > MAX_DOCUMENT) throw new PropsError('ERR_INPUT_TOO_LARGE');
  let top = cbor(input, 'COSE_Sign1');
  if (top && typeof top === 'object' && 'tag' in top && 'value' in top) {
    if ((top as { tag: unknown }).tag !== COSE_SIGN1_TAG)
      throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'CBOR tag' });
    top = (top as { value: unknown }).value;
  }
  const arr = parseWith(z.tuple([bytes, z.unknown(), bytes, bytes]), top, 'ERR_EVIDENCE_MALFORMED');
  const [protectedRaw, , payloadRaw, signature] = arr;
  const prot = cbor(protectedRaw, 'protected header') as Record<string, unknown> | Map<unknown, unknown>;
  const alg =
    prot instanceof Map ? prot.get(COSE_HEADER_ALG) : (prot as Record<string, unknown>)?.[String(COSE_HEADER_ALG)];
  if (alg !== COSE_ALG_ES384) throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'COSE alg is not ES384' });
  if (signature.length !== ES384_SIG_SIZE) throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: 'signature size' });
  const doc = parseWith(attestationDocumentSchema, cbor(payloadRaw, 'payload'), 'ERR_EVIDENCE_MALFORMED');
  return { protectedRaw, payloadRaw, signature, doc };
}

function bstrHeader(n: number): Uint8Array {
  if (n < 24) return Uint8Array.of(0x40 | n);
  if (n < 0x100) return Uint8Array.of(0x58, n);
  if (n < 0x10000) return Uint8Array.of(0x59, n >> 8, n & 0xff);
  return Uint8Array.of(0x5a, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/** Sig_structure = ["Signature1", protected, external_aad = h'', payload], encoded by hand (deterministic). */
export function sigStructure(protectedRaw: Uint8Array, payloadRaw: Uint8Array): Uint8Array {
  const ctx = new TextEncoder().encode('Signature1');
  const parts = [
    Uint8Array.of(0x84, 0x60 | ctx.length),
    ctx,
    bstrHeader(protectedRaw.length),
    protectedRaw,
    Uint8Array.of(0x40),
    bstrHeader(payloadRaw.length),
    payloadRaw,
  ];
  return Buffer.concat(parts);
}
