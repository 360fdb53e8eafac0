// Obtaining records with proof of origin from a source that signs them itself (signed-source path): the data owner
// fetches its statement as a JWS over HTTPS with its own bearer token; the JWS is the proof. Signature checking
// against the source's pinned JWKS belongs to verifier/provenance (the enclave re-checks at ingest).
import { request } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { base64url } from 'jose';
import {
  decodeProtectedHeaderStrict,
  jsonOfUtf8,
  PROVENANCE_PROOF_VERSION,
  PropsError,
  SIGNED_SOURCE_JWS_TYP,
  compactJws,
  signedSourcePayload,
  type ProvenanceProof,
  type SignedSourcePayload,
} from '../protocol/index.ts';

/** Test and sim routing: where to connect for a host name, instead of DNS and port 443 (never /etc/hosts). */
export type Route = (host: string) => { address: string; port: number } | undefined;

function fixedLookup(address: string, family: 4 | 6): LookupFunction {
  return ((_h: string, o: unknown, cb?: (...a: unknown[]) => void) => {
    const done = (typeof o === 'function' ? o : cb) as (...a: unknown[]) => void;
    const all = typeof o === 'object' && o !== null && (o as { all?: boolean }).all === true;
    queueMicrotask(() => (all ? done(null, [{ address, family }]) : done(null, address, family)));
  }) as unknown as LookupFunction;
}

function routed(host: string, route: Route | undefined): { port?: number; lookup?: LookupFunction } {
  if (!route) return {};
  const r = route(host);
  if (!r) throw new PropsError('ERR_FETCH_FAILED', { detail: 'ENOTFOUND' });
  return { port: r.port, lookup: fixedLookup(r.address, isIP(r.address) === 6 ? 6 : 4) };
}

export type FetchSignedStatementParameters = {
  url: string;
  token: string;
  /** PEM CAs trusted in addition to the system roots (the bank fixture's test CA). */
  caPems: readonly string[];
  route?: Route;
  timeoutMs?: number;
  maxBytes?: number;
};

const CHAIN = /^(UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|INVALID_CA|ERR_TLS_CERT_ALTNAME_INVALID)/;

function refusal(e: unknown): PropsError {
  if (e instanceof PropsError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CHAIN.test(code))
    return new PropsError('ERR_PROVENANCE_CERT_CHAIN_INVALID', { detail: code });
  return new PropsError(
    'ERR_FETCH_FAILED',
    typeof code === 'string' && /^[A-Z0-9_]{1,48}$/.test(code) ? { detail: code } : {},
  );
}

export async function fetchSignedStatement(
  p: FetchSignedStatementParameters,
): Promise<{ proof: Extract<ProvenanceProof, { kind: 'signed-source' }>; payload: SignedSourcePayload }> {
  // A URL that does not parse, or a token a header cannot carry, is refused by code: node's own errors would quote
  // the URL (query included) or fail inside the request.
  let url: URL;
  try {
    url = new URL(p.url);
  } catch {
    throw new PropsError('ERR_FETCH_URL_NOT_ALLOWED', { detail: 'not a URL' });
  }
  if (url.protocol !== 'https:' || url.username || url.password) throw new PropsError('ERR_FETCH_URL_NOT_ALLOWED');
  if (!/^[\x21-\x7e]{1,4096}$/.test(p.token))
    throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'bearer token: printable ASCII, no spaces' });
  const max = p.maxBytes ?? 4 * 1024 * 1024;
  const hop = routed(url.hostname.toLowerCase(), p.route);
  const timeoutMs = p.timeoutMs ?? 10_000;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: { authorization: `Bearer ${p.token}`, accept: 'application/jose' },
        ca: [...rootCertificates, ...p.caPems],
        servername: url.hostname,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        agent: false,
        timeout: timeoutMs,
        ...hop,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new PropsError('ERR_FETCH_SOURCE_REFUSED', { detail: `HTTP ${res.statusCode ?? 0}` }));
          return;
        }
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n > max) {
            res.destroy();
            reject(new PropsError('ERR_FETCH_RESPONSE_TOO_LARGE'));
          } else chunks.push(c);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').trim()));
        res.on('error', (e) => reject(refusal(e)));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      reject(new PropsError('ERR_FETCH_TIMEOUT'));
    });
    // `timeout` is only the socket's idle timer, which a server dripping a byte at a time never trips; this deadline
    // bounds the whole request.
    deadline = setTimeout(() => {
      reject(new PropsError('ERR_FETCH_TIMEOUT'));
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => reject(refusal(e)));
    req.end();
  }).finally(() => clearTimeout(deadline));
  // Shape only (the verifier authenticates it): a JWS of the signed-source kind carrying a valid statement.
  if (!compactJws.safeParse(text).success)
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'not a compact JWS' });
  let payload: SignedSourcePayload;
  try {
    if (decodeProtectedHeaderStrict(text).typ !== SIGNED_SOURCE_JWS_TYP) throw new Error('typ');
    payload = signedSourcePayload.parse(jsonOfUtf8(base64url.decode(text.split('.')[1] ?? ''), text.length));
  } catch {
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'not a signed statement' });
  }
  return { proof: { version: PROVENANCE_PROOF_VERSION, kind: 'signed-source', jws: text }, payload };
}
