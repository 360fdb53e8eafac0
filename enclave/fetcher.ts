// The attested fetcher (Town Crier style): the enclave itself makes the HTTPS request with the borrower's delegated
// bearer token, validates the server chain against system roots plus the policy's CAs, pins the host exactly, and
// signs what it saw (protocol/provenance.ts `AttestedFetchRecord`). The token never leaves this module: not in the
// record, not in an error, not in a log line.
import { X509Certificate, createHash } from 'node:crypto';
import { request, type RequestOptions } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import {
  createSecureContext,
  rootCertificates,
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import type { CryptoKey, KeyObject } from 'jose';
import {
  ATTESTED_FETCH_JWS_TYP,
  ATTESTED_FETCH_VERSION,
  DELEGATION_JWE_TYP,
  PROVENANCE_PROOF_VERSION,
  PropsError,
  TLS_VERSIONS,
  attestedFetchPayload,
  certChainDigest,
  fetchDelegation,
  parseWith,
  type AttestedFetchRecord,
  type FetchDelegation,
  type Hex,
  type ProvenanceProof,
} from '../protocol/index.ts';
import { jsonFromPlaintext, openEnclaveJwe } from './jwe.ts';
import type { JwsSigner } from './jws-signer.ts';

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

/** What the fetcher accepts; every field required (the enclave's policy supplies it). */
export type AttestedFetchPolicy = {
  /** Exact host names (lower case); no wildcards, no IP literals. */
  allowedHosts: readonly string[];
  /** PEM CAs added to the trust list (a local test CA, a bank's private root). */
  extraCaPems: readonly string[];
  useSystemRoots: boolean;
  maxBodyBytes: number;
  timeoutMs: number;
};

export type AttestedFetcherDeps = {
  now: () => Date;
  signer: JwsSigner;
  /** Routing, injected (tests and the sim send the portal host to loopback and its ephemeral port). */
  route?: Route;
};

export type AttestedFetchParameters = { url: string; token: string };
export type AttestedFetchReturnType = {
  record: AttestedFetchRecord;
  /** The proof envelope: the enclave's JWS over the record, plus the body (base64) for ingest inside the enclave. */
  proof: Extract<ProvenanceProof, { kind: 'attested-fetch' }>;
  body: Uint8Array;
};

export type AttestedFetcher = (p: AttestedFetchParameters) => Promise<AttestedFetchReturnType>;

// Node's verification codes for a chain that does not lead to a trusted, valid root.
const CHAIN_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_PURPOSE',
]);
const PIN_FAILED = 'PROPS_HOST_PIN_FAILED';

/**
 * Exact host pinning: the leaf must list `host` itself as a DNS subjectAltName. OpenSSL's X509_check_host decides
 * (through node:crypto), with wildcards off — a `*.example.test` certificate is a certificate for some other name —
 * and the subject CN never consulted (RFC 6125).
 */
export function certNamesHostExactly(cert: PeerCertificate, host: string): boolean {
  if (!cert.raw) return false;
  try {
    return (
      new X509Certificate(cert.raw).checkHost(host, { subject: 'never', wildcards: false, partialWildcards: false }) !==
      undefined
    );
  } catch {
    return false;
  }
}

/** The chain as Node validated it, leaf first, up to the trust anchor; DER bytes. */
function peerChain(socket: TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  let c: PeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c?.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new Uint8Array(c.raw));
    const next: PeerCertificate | undefined = (c as { issuerCertificate?: PeerCertificate }).issuerCertificate;
    c = next;
  }
  return out;
}

function refusal(e: unknown): PropsError {
  if (e instanceof PropsError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === PIN_FAILED || code === 'ERR_TLS_CERT_ALTNAME_INVALID') return new PropsError('ERR_FETCH_HOST_MISMATCH');
  if (typeof code === 'string' && CHAIN_CODES.has(code))
    return new PropsError('ERR_PROVENANCE_CERT_CHAIN_INVALID', { detail: code });
  // Only Node's own symbolic code travels on; the underlying error (and anything it might hold) does not.
  const safe = typeof code === 'string' && /^[A-Z0-9_]{1,48}$/.test(code) ? code : undefined;
  return new PropsError('ERR_FETCH_FAILED', safe ? { detail: safe } : {});
}

function checkedUrl(raw: string, policy: AttestedFetchPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PropsError('ERR_FETCH_URL_NOT_ALLOWED', { detail: 'not a URL' });
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.hash) {
    throw new PropsError('ERR_FETCH_URL_NOT_ALLOWED', { detail: 'https only, no userinfo or fragment' });
  }
  const host = url.hostname.toLowerCase();
  if (isIP(host) || host.startsWith('[')) throw new PropsError('ERR_FETCH_URL_NOT_ALLOWED', { detail: 'IP literal' });
  if (!policy.allowedHosts.includes(host)) throw new PropsError('ERR_PROVENANCE_HOST_NOT_ALLOWED');
  // The policy allows a host, not every service on it; and the verifier refuses a record whose URL names a port
  // (verifier/provenance/attested-fetch.ts), so the token would go out for a record no one accepts.
  if (url.port !== '') throw new PropsError('ERR_FETCH_URL_NOT_ALLOWED', { detail: 'port' });
  return url;
}

/**
 * Builds a fetcher for one policy. The trust store (system roots + policy CAs) is parsed once here, not per
 * request — parsing ~150 roots would otherwise dominate the cost of an attested fetch.
 */
export function createAttestedFetcher(policy: AttestedFetchPolicy, deps: AttestedFetcherDeps): AttestedFetcher {
  const ca = [...(policy.useSystemRoots ? rootCertificates : []), ...policy.extraCaPems];
  if (ca.length === 0) throw new PropsError('ERR_PROVENANCE_POLICY_MALFORMED', { detail: 'no trusted roots' });
  const secureContext: SecureContext = createSecureContext({ ca, minVersion: 'TLSv1.2' });
  // Per leaf certificate (SHA-256 fingerprint, which Node computes with the handshake): whether it names the host,
  // and the digest of the chain Node validated for it. Both depend only on the leaf and this fetcher's fixed trust
  // store, so a repeat fetch from the same server skips the X.509 parse and the chain walk. Bounded.
  const hostNamed = new Map<string, boolean>();
  const chainOf = new Map<string, Hex>();
  const remember = <V>(m: Map<string, V>, k: string, v: V): V => {
    if (m.size >= 256) m.clear();
    m.set(k, v);
    return v;
  };
  const namesHost = (cert: PeerCertificate, host: string): boolean => {
    const k = `${cert.fingerprint256}|${host}`;
    return hostNamed.get(k) ?? remember(hostNamed, k, certNamesHostExactly(cert, host));
  };
  const chainDigest = (socket: TLSSocket): Hex => {
    const leaf = socket.getPeerCertificate(false).fingerprint256;
    return chainOf.get(leaf) ?? remember(chainOf, leaf, certChainDigest(peerChain(socket)));
  };

  return async ({ url: rawUrl, token }) => {
    const url = checkedUrl(rawUrl, policy);
    const host = url.hostname.toLowerCase();
    const hop = routed(host, deps.route);
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const { status, tlsVersion, chainSha256, contentType, body, bodySha256 } = await new Promise<{
      status: number;
      tlsVersion: string | null;
      chainSha256: Hex;
      contentType: string;
      body: Uint8Array;
      bodySha256: Hex;
    }>((resolve, reject) => {
      // `secureContext` is a tls.connect option that https passes through; its RequestOptions type omits it.
      const options: RequestOptions & { secureContext: SecureContext } = {
        method: 'GET',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        agent: false,
        secureContext,
        servername: host,
        rejectUnauthorized: true,
        checkServerIdentity: (_name: string, cert: PeerCertificate) =>
          namesHost(cert, host) ? undefined : Object.assign(new Error('host pin'), { code: PIN_FAILED }),
        timeout: policy.timeoutMs,
        ...hop,
      };
      const req = request(url, options, (res) => {
        const socket = res.socket as TLSSocket;
        if (!socket.authorized) {
          res.destroy();
          reject(new PropsError('ERR_PROVENANCE_CERT_CHAIN_INVALID'));
          return;
        }
        // A body delimited only by the connection closing cannot be told from one cut short: a TCP FIN without TLS
        // close_notify ends it as cleanly as the server would. Only length-delimited or chunked bodies are signed.
        const status = res.statusCode ?? 0;
        const chunked = /(?:^|,)\s*chunked\s*$/i.test(String(res.headers['transfer-encoding'] ?? ''));
        if (res.headers['content-length'] === undefined && !chunked && status !== 204 && status !== 304) {
          res.destroy();
          reject(new PropsError('ERR_FETCH_FAILED', { detail: 'close-delimited response' }));
          return;
        }
        const chainSha256 = early ?? chainDigest(socket);
        const tlsVersion = socket.getProtocol();
        const chunks: Buffer[] = [];
        // Hashed as it arrives (native SHA-256, the same value as protocol `bodyDigest`), overlapping the network.
        const hash = createHash('sha256');
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > policy.maxBodyBytes) {
            res.destroy();
            reject(new PropsError('ERR_FETCH_RESPONSE_TOO_LARGE', { detail: `over ${policy.maxBodyBytes} bytes` }));
            return;
          }
          chunks.push(chunk);
          hash.update(chunk);
        });
        res.on('end', () =>
          resolve({
            status,
            tlsVersion,
            chainSha256,
            contentType: (res.headers['content-type'] ?? '').toLowerCase().slice(0, 256),
            body: new Uint8Array(Buffer.concat(chunks, size)),
            bodySha256: `0x${hash.digest('hex')}`,
          }),
        );
        res.on('error', (e) => reject(refusal(e)));
      });
      // `timeout` above is only the socket's idle timer, which a server dripping a byte at a time never trips; this
      // deadline bounds the whole request, from connect to the last byte of the body.
      deadline = setTimeout(() => {
        reject(new PropsError('ERR_FETCH_TIMEOUT', { detail: `${policy.timeoutMs} ms` }));
        req.destroy();
      }, policy.timeoutMs);
      // Read the validated chain as soon as the handshake completes, while the server is still preparing its
      // response, so the attested fetch spends no extra time on it.
      let early: Hex | undefined;
      req.on('socket', (s) => {
        const tls = s as TLSSocket;
        // setImmediate: let the HTTP client flush the request first, then read the chain while the server works.
        tls.once('secureConnect', () =>
          setImmediate(() => {
            if (early === undefined && tls.authorized && !tls.destroyed) early = chainDigest(tls);
          }),
        );
      });
      req.on('timeout', () => {
        req.destroy();
        reject(new PropsError('ERR_FETCH_TIMEOUT', { detail: `${policy.timeoutMs} ms` }));
      });
      req.on('error', (e) => reject(refusal(e)));
      req.end();
    }).finally(() => clearTimeout(deadline));

    if (!(TLS_VERSIONS as readonly (string | null)[]).includes(tlsVersion)) {
      throw new PropsError('ERR_FETCH_FAILED', { detail: 'TLS version' });
    }
    const record: AttestedFetchRecord = {
      version: ATTESTED_FETCH_VERSION,
      kind: 'attested-fetch',
      url: url.href,
      host,
      method: 'GET',
      status,
      tlsVersion: tlsVersion as AttestedFetchRecord['tlsVersion'],
      certChainSha256: chainSha256,
      time: deps.now().toISOString(),
      bodySha256,
      bodyBytes: body.length,
      contentType,
    };
    const jws = await deps.signer(attestedFetchPayload(record), { typ: ATTESTED_FETCH_JWS_TYP });
    return {
      record,
      proof: {
        version: PROVENANCE_PROOF_VERSION,
        kind: 'attested-fetch',
        jws,
        body: Buffer.from(body.buffer, body.byteOffset, body.length).toString('base64'),
      },
      body,
    };
  };
}

export type OpenDelegationOptions = {
  expectedKid: string;
  evidenceDigest: Hex;
  seenDelegationIds: { has(id: string): boolean; add(id: string): void };
};

/**
 * Decrypts a fetch delegation (JWE to the enclave's attested encryption key) and runs the attested fetch with the
 * token inside. The delegation id is recorded as used once the delegation is opened and checked, before the fetch,
 * and stays used if the fetch fails: one delegation, at most one request with its token. The token is dropped with
 * the plaintext when this returns (JavaScript cannot promise it is wiped from memory; see SECURITY.md).
 */
export async function fetchDelegated(
  jwe: unknown,
  decryptionKey: CryptoKey | KeyObject,
  fetcher: AttestedFetcher,
  opts: OpenDelegationOptions,
): Promise<AttestedFetchReturnType & { delegationId: Hex }> {
  const { id, plaintext } = await openEnclaveJwe(jwe, decryptionKey, {
    expectedKid: opts.expectedKid,
    evidenceDigest: opts.evidenceDigest,
    typ: DELEGATION_JWE_TYP,
    isSeen: (i) => opts.seenDelegationIds.has(i),
  });
  let d: FetchDelegation;
  try {
    d = parseWith(fetchDelegation, jsonFromPlaintext(plaintext), 'ERR_SUBMISSION_MALFORMED');
  } finally {
    plaintext.fill(0);
  }
  if (d.delegationId !== id) throw new PropsError('ERR_SUBMISSION_MALFORMED', { detail: 'delegation id' });
  if (d.evidenceDigest !== opts.evidenceDigest)
    throw new PropsError('ERR_SUBMISSION_MISADDRESSED', { detail: 'evidenceDigest' });
  // Consumed before any I/O, with no await between the check and the add: copies racing in after decryption are
  // refused here, so the bank sees the token once per delegation. It stays consumed if the fetch fails — a host
  // that can break connections must not be able to turn one delegation into many requests; the owner retries
  // with a new delegation.
  if (opts.seenDelegationIds.has(id)) throw new PropsError('ERR_SUBMISSION_REPLAYED');
  opts.seenDelegationIds.add(id);
  const out = await fetcher({ url: d.url, token: d.token });
  return { ...out, delegationId: id };
}
