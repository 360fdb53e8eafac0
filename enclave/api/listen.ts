// The HTTP/1.1 server `props serve` runs the app on: connection limits and timeouts a slow or idle client cannot hold
// open, and the parser's refusals answered as problem+json (client-errors.ts).
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { answerClientErrors } from './client-errors.ts';

export type HttpLimits = {
  /** Open connections at most; more are closed as they arrive. */
  maxConnections: number;
  /** The whole header block must arrive within this (from the connection or the previous response). */
  headersTimeoutMs: number;
  /** The whole request, headers and body, must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
  /** The header block's size limit (Node answers 431 above it). */
  maxHeaderBytes: number;
};

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveMs: 5_000,
  maxHeaderBytes: 16 * 1024,
};

/** Why the limits are refused, or undefined: Node requires the header deadline to fall within the request's. */
export function checkHttpLimits(l: HttpLimits): string | undefined {
  const positive = (n: number) => Number.isSafeInteger(n) && n >= 1;
  if (!Object.values(l).every(positive)) return 'connection limits and timeouts must be positive integers';
  if (l.headersTimeoutMs > l.requestTimeoutMs) return '--headers-timeout-ms must not exceed --request-timeout-ms';
  return undefined;
}

export type ServeHttpParameters = {
  fetch: Parameters<typeof serve>[0]['fetch'];
  port: number;
  hostname: string;
  limits?: HttpLimits;
};

/** Listens with the limits applied; `onListening` gets the bound address. */
export function serveHttp(o: ServeHttpParameters, onListening?: (info: AddressInfo) => void): Server {
  const l = o.limits ?? DEFAULT_HTTP_LIMITS;
  const problem = checkHttpLimits(l);
  if (problem) throw new RangeError(problem);
  const server = serve(
    {
      fetch: o.fetch,
      port: o.port,
      hostname: o.hostname,
      createServer,
      serverOptions: {
        headersTimeout: l.headersTimeoutMs,
        requestTimeout: l.requestTimeoutMs,
        maxHeaderSize: l.maxHeaderBytes,
        insecureHTTPParser: false,
        // Node checks the two deadlines on this interval (30 s by default): often enough that they hold to within a
        // fraction of the shorter one.
        connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(l.headersTimeoutMs / 4))),
      },
    },
    onListening,
  );
  if (!(server instanceof Server)) throw new TypeError('expected an HTTP/1.1 server');
  server.maxConnections = l.maxConnections;
  server.keepAliveTimeout = l.keepAliveMs;
  answerClientErrors(server);
  return server;
}
