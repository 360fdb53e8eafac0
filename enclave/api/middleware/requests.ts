// What every request passes before its route: security headers, caching rules, the JSON media type for POSTs and the
// body size limit.
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { PropsError } from '../../../protocol/index.ts';
import type { Router } from '../http.ts';
import type { Metrics } from '../metrics.ts';

export function useRequestRules(app: Router, o: { maxBodyBytes: number; metrics: Metrics }): void {
  // Every response: no framing (the served pages hold buttons that encrypt, submit and grant consents, which another
  // site must not clickjack; a <meta> CSP cannot say frame-ancestors), no MIME sniffing, hono's other defaults. API
  // answers (results, receipts, bundles) are not to be kept by caches.
  app.use('*', secureHeaders({ xFrameOptions: 'DENY', contentSecurityPolicy: { frameAncestors: ["'none'"] } }));
  app.use('/v1/*', async (c, next) => {
    await next();
    c.header('cache-control', 'no-store');
  });
  app.use('*', async (c, next) => {
    o.metrics.count('props_http_requests_total');
    if (c.req.method === 'POST' && !(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      throw new PropsError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
    }
    await next();
  });
  app.use('*', sizeLimit(o.maxBodyBytes));
}

function sizeLimit(maxSize: number) {
  const streamed = bodyLimit({
    maxSize,
    onError: () => {
      throw new PropsError('ERR_INPUT_TOO_LARGE');
    },
  });
  return async (c: Context, next: () => Promise<void>) => {
    // A body with a Content-Length (and no Transfer-Encoding) is judged by the header, as hono's bodyLimit does, but
    // without touching `c.req.raw.body`, which on @hono/node-server builds a full fetch Request and web stream.
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (parseInt(length || '0', 10) > maxSize) throw new PropsError('ERR_INPUT_TOO_LARGE');
      return next();
    }
    return streamed(c, next);
  };
}
