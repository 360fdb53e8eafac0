// Attested-fetch records: the enclave made the HTTPS request itself and signed what it saw (protocol/provenance.ts).
// Checked here: the enclave's ES256 signature under a trusted key (policy or evidence-bound), the canonical record,
// host pin, HTTP status, size, freshness, and — when the body travels with the proof — its digest.
import {
  ATTESTED_FETCH_JWS_TYP,
  attestedFetchPayload,
  attestedFetchRecord,
  bodyDigest,
  bytesEqual,
  fromBase64,
  parseWith,
  PropsError,
  sha256,
  statement,
  toHex,
  utf8,
} from '../../protocol/index.ts';
import { parsePayloadJson, verifyPinnedJws, type TrustedJwk } from './jws.ts';
import { checkFreshness, checkHost } from './policy.ts';
import { provenanceDigest, type ProvenanceVerdict, type VerifyProvenanceOptions } from './types.ts';

export type AttestedFetchInput = { jws: string; body?: Uint8Array | string };

export async function verifyAttestedFetch(
  input: AttestedFetchInput,
  opts: VerifyProvenanceOptions,
): Promise<ProvenanceVerdict> {
  const { policy, now } = opts;
  const pol = policy.attestedFetch;
  const keys: TrustedJwk[] = [...pol.enclaveKeys, ...(opts.boundEnclaveKeys ?? []).filter((k) => k.use === 'sig')];
  const { payload, kid } = await verifyPinnedJws(input.jws, ATTESTED_FETCH_JWS_TYP, pol.algorithms, keys);
  const record = parseWith(attestedFetchRecord, parsePayloadJson(payload), 'ERR_PROVENANCE_MALFORMED');
  // One record, one byte string: a signed non-canonical form is refused so digests of records are unambiguous.
  if (!bytesEqual(payload, attestedFetchPayload(record)))
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'record not canonical' });

  const url = new URL(record.url);
  if (url.hostname !== record.host || url.port !== '') {
    throw new PropsError('ERR_PROVENANCE_HOST_NOT_ALLOWED', { detail: 'record host differs from its url' });
  }
  checkHost(pol.hosts, record.host);
  if (!pol.statuses.includes(record.status)) throw new PropsError('ERR_PROVENANCE_STATUS_NOT_OK');
  if (record.bodyBytes > policy.maxTranscriptBytes) throw new PropsError('ERR_PROVENANCE_TRANSCRIPT_TOO_LARGE');
  checkFreshness(policy, Math.floor(Date.parse(record.time) / 1000), now);

  let body: Uint8Array | undefined;
  if (input.body !== undefined) {
    body = typeof input.body === 'string' ? decodeBase64(input.body) : input.body;
    if (body.length !== record.bodyBytes || bodyDigest(body) !== record.bodySha256)
      throw new PropsError('ERR_PROVENANCE_BODY_MISMATCH');
  }
  // Without the body, the verdict certifies the record itself (digests), which is what an auditor may see.
  const revealed = [{ direction: 'received' as const, start: 0, bytes: body ?? payload }];
  const base = { kind: 'attested-fetch' as const, signer: kid, host: record.host, time: record.time, revealed };
  const verdict: Omit<ProvenanceVerdict, 'digest'> =
    body === undefined ? base : { ...base, body, ...statementOf(body) };
  return { ...verdict, digest: provenanceDigest(verdict, toHex(sha256(utf8(input.jws)))) };
}

function decodeBase64(b64: string): Uint8Array {
  try {
    return fromBase64(b64);
  } catch (cause) {
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'body base64', cause });
  }
}

function statementOf(
  body: Uint8Array,
): { statement: NonNullable<ProvenanceVerdict['statement']> } | Record<string, never> {
  try {
    const r = statement.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)));
    return r.success ? { statement: r.data } : {};
  } catch {
    return {};
  }
}
