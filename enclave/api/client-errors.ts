// Requests Node's HTTP parser refuses before any route sees them (bad framing, oversized headers, timeouts) answered
// as problem+json with a stable code, like every other refusal, and the connection closed.
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { PropsError, type ErrorCode } from '../../protocol/index.ts';
import { problemOf } from './problem.ts';

/** The code for a parser or timeout error; undefined for a transport error (reset, broken pipe), not answered. */
export function clientErrorCode(e: unknown): ErrorCode | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'HPE_HEADER_OVERFLOW') return 'ERR_HTTP_HEADERS_TOO_LARGE';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'ERR_HTTP_REQUEST_TIMEOUT';
  if (typeof code === 'string' && code.startsWith('HPE_')) return 'ERR_HTTP_MALFORMED';
  return undefined;
}

/** The whole HTTP/1.1 response for a refused request: problem+json, and the connection closing after it. */
export function clientErrorResponse(code: ErrorCode): string {
  const p = problemOf(new PropsError(code));
  const body = JSON.stringify(p);
  return [
    `HTTP/1.1 ${p.status} ${p.title.replace(/[^\x20-\x7e]/g, '')}`,
    'content-type: application/problem+json',
    `content-length: ${Buffer.byteLength(body)}`,
    'cache-control: no-store',
    'x-content-type-options: nosniff',
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/** How long a refused connection may stay open for its answer to be read before it is destroyed. */
const LINGER_MS = 1000;

/**
 * Installs the `clientError` answer on `server`. An error in a request body that a route is already reading (a bad
 * chunk size) fails that body with the same coded error, so the route's error path sees a client fault, not a 500.
 */
export function answerClientErrors(server: Server): void {
  const inFlight = new WeakMap<Socket, IncomingMessage>();
  const answered = new WeakSet<Socket>();
  server.on('request', (req: IncomingMessage) => inFlight.set(req.socket, req));
  server.on('clientError', (err: Error, socket: Socket) => {
    const code = clientErrorCode(err);
    // Destroying the request destroys its socket too: only once the answer is flushed, or when none is to be sent.
    const req = inFlight.get(socket);
    const failBody = () => {
      if (req && !req.complete && !req.destroyed)
        req.destroy(new PropsError(code ?? 'ERR_HTTP_MALFORMED', { cause: err }));
    };
    // The parser may report again on the bytes that follow; one answer per connection.
    if (answered.has(socket)) return;
    answered.add(socket);
    // Only where nothing of a response went out yet: a half-written answer must not be followed by another.
    const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (code === undefined || !socket.writable || pending?.headersSent === true) {
      failBody();
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(code), failBody);
    setTimeout(() => {
      failBody();
      socket.destroy();
    }, LINGER_MS).unref();
  });
}
