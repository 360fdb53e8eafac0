// The bank-portal fixture: a real HTTPS server (node:https, loopback, ephemeral port) behind a test CA made at start,
// with bearer-token accounts (only token hashes are kept) serving `Statement`s, plain or signed (JWS) for the
// signed-source path. Routing to it is injected (`route`: host → loopback + port), never /etc/hosts.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import {
  SIGNED_SOURCE_JWS_TYP,
  SIGNED_SOURCE_VERSION,
  canonicalBytes,
  statement as statementSchema,
  type SignedSourcePayload,
  type Statement,
} from '../../protocol/index.ts';
import { createTestCa, type TestCa } from './test-ca.ts';

export const DEFAULT_BANK_HOST = 'bank.props.test';

export type PortalAccount = { accountId: string; token: string };

export type BankPortalOptions = {
  /** The host name the server certificate is issued for (default bank.props.test). */
  host?: string;
  /** Statement source, injected (the seeded generator lives elsewhere); undefined → 404. */
  statementFor: (accountId: string) => Statement | undefined | Promise<Statement | undefined>;
  accounts: readonly PortalAccount[];
  now?: () => Date;
  /** Lifetime of a signed statement (JWS `exp` − `iat`), seconds. Default 1 hour. */
  signatureTtlSeconds?: number;
  /** Benchmarks only: wait this long before answering a statement, standing in for a real bank's backend. */
  responseDelayMs?: number;
  /** For refusal tests: serve a certificate from this CA and/or for these DNS names instead of [host]. */
  tls?: { ca?: TestCa; certNames?: readonly string[] };
};

export type BankPortal = {
  host: string;
  port: number;
  /** `https://<host>` — as a real bank's would be; reach it through `route`. */
  origin: string;
  statementUrl(accountId: string): string;
  /** The test CA's certificate (PEM) that clients must add to their trust list. */
  caPem: string;
  ca: TestCa;
  /** DER of the server certificate the portal presents. */
  leafDer: Uint8Array;
  /** Sends the portal host (only) to 127.0.0.1 and the server's ephemeral port. */
  route: Route;
  jwks: { keys: JWK[] };
  close(): Promise<void>;
};

const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export type Route = (host: string) => { address: string; port: number } | undefined;

/** A route table: exact host names to loopback address and port; undefined (not found) for everything else. */
export function staticRoute(table: Record<string, { address: string; port: number }>): Route {
  return (host) => (Object.hasOwn(table, host.toLowerCase()) ? table[host.toLowerCase()] : undefined);
}

export async function startBankPortal(opts: BankPortalOptions): Promise<BankPortal> {
  const host = (opts.host ?? DEFAULT_BANK_HOST).toLowerCase();
  const now = opts.now ?? (() => new Date());
  const ttl = opts.signatureTtlSeconds ?? 3600;
  const ca = opts.tls?.ca ?? (await createTestCa({ now: now() }));
  const leaf = await ca.issueServer(opts.tls?.certNames ?? [host]);

  // Tokens are kept only as SHA-256 hashes: a dump of the portal's memory or logs shows no usable token.
  const accountsByTokenHash = new Map<string, string>();
  for (const a of opts.accounts) accountsByTokenHash.set(tokenHash(a.token), a.accountId);

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const jwks = { keys: [{ ...pub, kid, alg: 'ES256', use: 'sig' }] };

  const send = (res: ServerResponse, status: number, type: string, body: string | Uint8Array): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `https://${host}`);
    if (req.method !== 'GET') return send(res, 405, 'application/json', '{"error":"method_not_allowed"}');
    if (url.pathname === '/.well-known/jwks.json') return send(res, 200, 'application/json', JSON.stringify(jwks));
    const m = /^\/accounts\/([A-Za-z0-9_-]{1,64})\/statement$/.exec(url.pathname);
    if (!m) return send(res, 404, 'application/json', '{"error":"not_found"}');
    const accountId = m[1] as string;
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(auth);
    const owner = bearer ? accountsByTokenHash.get(tokenHash(bearer[1] as string)) : undefined;
    if (!owner) return send(res, 401, 'application/json', '{"error":"unauthorized"}');
    if (owner !== accountId) return send(res, 403, 'application/json', '{"error":"forbidden"}');
    if (opts.responseDelayMs) await new Promise((r) => setTimeout(r, opts.responseDelayMs));
    const st = await opts.statementFor(accountId);
    if (!st) return send(res, 404, 'application/json', '{"error":"no_statement"}');
    const checked = statementSchema.parse(st); // the fixture never serves a record outside the schema
    const wantsJws =
      url.searchParams.get('format') === 'jws' || (req.headers.accept ?? '').includes('application/jose');
    if (!wantsJws) return send(res, 200, 'application/json', canonicalBytes(checked));
    const iat = Math.floor(now().getTime() / 1000);
    const payload: SignedSourcePayload = {
      v: SIGNED_SOURCE_VERSION,
      iss: host,
      sub: accountId,
      iat,
      exp: iat + ttl,
      statement: checked,
    };
    const jws = await new CompactSign(canonicalBytes(payload))
      .setProtectedHeader({ alg: 'ES256', typ: SIGNED_SOURCE_JWS_TYP, kid })
      .sign(privateKey);
    return send(res, 200, 'application/jose', jws);
  }

  const server: Server = createServer({ cert: leaf.certPem, key: leaf.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
    handle(req, res).catch(() => {
      // Never echo the failure: it could carry record contents.
      if (!res.headersSent) send(res, 500, 'application/json', '{"error":"internal"}');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `https://${host}`;

  return {
    host,
    port,
    origin,
    statementUrl: (accountId) => `${origin}/accounts/${accountId}/statement`,
    caPem: ca.certPem,
    ca,
    leafDer: leaf.der,
    route: staticRoute({ [host]: { address: '127.0.0.1', port } }),
    jwks,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A provenance policy (v2) that trusts this portal: its signing key for source-signed statements from its host and,
 * with `attestedFetch`, the enclave's own fetches from that host.
 */
export function portalProvenancePolicy(
  portal: Pick<BankPortal, 'host' | 'jwks'>,
  o: { id: string; attestedFetch: boolean },
) {
  return {
    version: 2,
    id: o.id,
    maxAgeSeconds: 3600,
    clockSkewSeconds: 60,
    maxTranscriptBytes: 1 << 20,
    tlsn: { hosts: [], notaryKeys: [] },
    reclaim: { hosts: [], witnesses: [] },
    signedSource: {
      hosts: [portal.host],
      algorithms: ['ES256'],
      jwks: portal.jwks,
      kids: portal.jwks.keys.map((k) => ({ kid: String(k.kid), issuers: [portal.host] })),
    },
    attestedFetch: {
      hosts: o.attestedFetch ? [portal.host] : [],
      algorithms: ['ES256'],
      enclaveKeys: [],
      statuses: [200],
    },
  };
}
