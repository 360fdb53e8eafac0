// Malformed HTTP and slow or idle clients against the server `props serve` runs (serveHttp), over raw sockets: every
// refusal is problem+json with a stable code, the connection is closed on time, and /healthz answers throughout.
import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { testService } from '../../testing/service.ts';
import { clientErrorCode } from './client-errors.ts';
import { DEFAULT_HTTP_LIMITS, serveHttp, type HttpLimits } from './listen.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function start(limits: Partial<HttpLimits> = {}) {
  const svc = await testService();
  const server = await new Promise<{ server: Server; port: number }>((resolve) => {
    const server = serveHttp(
      { fetch: svc.app.fetch, port: 0, hostname: '127.0.0.1', limits: { ...DEFAULT_HTTP_LIMITS, ...limits } },
      (info) => resolve({ server, port: info.port }),
    );
  });
  servers.push(server.server);
  return { ...server, svc };
}

type Exchange = { text: string; closedAfterMs: number; answeredAfterMs: number };

/** Sends `parts` (each after `gapMs`), and answers everything read until the server closes the connection. */
function exchange(port: number, parts: string[], gapMs = 0, giveUpMs = 5000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s: Socket = connect(port, '127.0.0.1');
    let text = '';
    let answeredAfterMs = -1;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`still open after ${giveUpMs} ms; read: ${text}`));
    }, giveUpMs);
    s.on('data', (d) => {
      if (answeredAfterMs < 0) answeredAfterMs = Date.now() - t0;
      text += d.toString('latin1');
    });
    s.on('error', () => {}); // a reset after the answer is read still ends the exchange
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: Date.now() - t0, answeredAfterMs });
    });
    s.on('connect', async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0 && gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        if (s.destroyed || s.writableEnded) return;
        s.write(p);
      }
    });
  });
}

/** The status and the problem document of the first response in `text`. */
function problemIn(text: string): { status: number; type: string; code: string } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const status = Number(head.split(' ')[1]);
  const type = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
  let code = '';
  try {
    code = (JSON.parse(body) as { code: string }).code;
  } catch {}
  return { status, type, code };
}

const POST = 'POST /v1/consents HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n';

describe('malformed HTTP is answered as problem+json', () => {
  it.each([
    ['garbage Content-Length', `${POST}Content-Length: 1x\r\n\r\n{}`, 400, 'ERR_HTTP_MALFORMED'],
    [
      'both Content-Length and Transfer-Encoding',
      `${POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      400,
      'ERR_HTTP_MALFORMED',
    ],
    ['a bad chunk size', `${POST}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, 400, 'ERR_HTTP_MALFORMED'],
    [
      'an obs-fold header',
      `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-A: b\r\n c\r\n\r\n`,
      400,
      'ERR_HTTP_MALFORMED',
    ],
    [
      'headers over 16 KiB',
      `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
      431,
      'ERR_HTTP_HEADERS_TOO_LARGE',
    ],
    ['a request line that is not HTTP', 'HELLO\r\n\r\n', 400, 'ERR_HTTP_MALFORMED'],
  ])(
    'attack: %s is answered as a problem with its code, and the connection is closed',
    async (_name, raw, status, code) => {
      const { port, svc } = await start();
      const r = await exchange(port, [raw]);
      expect(problemIn(r.text)).toEqual({ status, type: 'application/problem+json', code });
      expect(r.text).toMatch(/\r\nconnection: close\r\n/i);
      expect(svc.logLines.join('\n')).not.toContain('ERR_INTERNAL');
    },
  );

  it('attack: a bad chunk size in a body a route is already reading is a 400 problem, not ERR_INTERNAL in the logs', async () => {
    const { port, svc } = await start();
    const r = await exchange(
      port,
      [`${POST}Transfer-Encoding: chunked\r\n\r\n2\r\n{"\r\n`, 'zz\r\nxx\r\n0\r\n\r\n'],
      100,
    );
    expect(problemIn(r.text)).toEqual({ status: 400, type: 'application/problem+json', code: 'ERR_HTTP_MALFORMED' });
    await new Promise((r) => setTimeout(r, 100));
    expect(svc.logLines.join('\n')).not.toContain('ERR_INTERNAL');
    expect(svc.logLines.join('\n')).not.toContain('http.error');
  });

  it('a transport error (reset, broken pipe) is not answered', () => {
    expect(clientErrorCode(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(clientErrorCode(Object.assign(new Error('x'), { code: 'HPE_INVALID_METHOD' }))).toBe('ERR_HTTP_MALFORMED');
  });

  it('a well-formed request on the same server is still answered', async () => {
    const { port } = await start();
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(r.status).toBe(200);
  });
});

describe('slow and idle connections are closed on time', () => {
  const limits = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveMs: 400 };
  // Node checks the deadlines on an interval (a quarter of the header timeout here); allow that and scheduling.
  const SLACK = 700;

  it('attack: slow headers, a slow body, an idle connection and a kept-alive one are closed; /healthz answers throughout', async () => {
    const { port } = await start(limits);
    const drip = (n: number) => Array.from({ length: n }, (_, i) => `X-${i}: y\r\n`);
    const slowHeaders = exchange(port, ['GET /healthz HTTP/1.1\r\nHost: localhost\r\n', ...drip(40)], 100);
    const slowBody = exchange(
      port,
      [`${POST}Content-Length: 100\r\n\r\n`, ...Array.from({ length: 40 }, () => ' ')],
      100,
    );
    const idle = exchange(port, []);
    const keptAlive = exchange(port, ['GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n']);
    const health: number[] = [];
    const probes = (async () => {
      for (let i = 0; i < 8; i++) {
        health.push((await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'close' } })).status);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const [h, b, i, k] = await Promise.all([slowHeaders, slowBody, idle, keptAlive]);
    await probes;
    expect(health).toEqual(Array(8).fill(200));

    expect(problemIn(h.text)).toMatchObject({ status: 408, code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    expect(h.closedAfterMs).toBeGreaterThanOrEqual(limits.headersTimeoutMs - 50);
    expect(h.closedAfterMs).toBeLessThan(limits.headersTimeoutMs + SLACK);

    expect(problemIn(b.text)).toMatchObject({ status: 408, code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    expect(b.closedAfterMs).toBeGreaterThanOrEqual(limits.requestTimeoutMs - 50);
    expect(b.closedAfterMs).toBeLessThan(limits.requestTimeoutMs + SLACK);

    // A connection that never sent a byte is past its header deadline too.
    expect(problemIn(i.text)).toMatchObject({ status: 408, code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    expect(i.closedAfterMs).toBeLessThan(limits.headersTimeoutMs + SLACK);

    expect(problemIn(k.text).status).toBe(200);
    expect(k.closedAfterMs).toBeGreaterThanOrEqual(limits.keepAliveMs - 50);
    // Node keeps an idle socket up to a second past the keep-alive timeout it advertises.
    expect(k.closedAfterMs).toBeLessThan(limits.keepAliveMs + 1000 + SLACK);
  });

  it('max connections: a connection over the limit is closed at once; once the others go, /healthz answers again', async () => {
    const { port } = await start({ ...limits, maxConnections: 2 });
    const held = [exchange(port, []), exchange(port, [])];
    await new Promise((r) => setTimeout(r, 100));
    const over = await exchange(port, ['GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n']);
    expect(over.text).toBe('');
    expect(over.closedAfterMs).toBeLessThan(limits.headersTimeoutMs);
    await Promise.all(held);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });
});
