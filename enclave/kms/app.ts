// The key-release service over HTTP: GET /v1/kms (who it is), POST /v1/kms/challenge, POST /v1/kms/release,
// POST /v1/kms/heads (an instance reports its signed head), GET /v1/kms/heads/{logId}. Every refusal is problem+json
// with its code; bodies are JSON, size-limited, parsed strictly. Nothing here logs a body, a release or a key.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { parseJsonText, PropsError, type Hex } from '../../protocol/index.ts';
import { problemOf } from '../api/problem.ts';
import type { Kms } from './service.ts';

/** Evidence with real-platform collateral fits; anything larger is refused before it is read. */
const MAX_BODY_BYTES = 1 << 20;
const LOG_ID = /^0x[0-9a-f]{64}$/;

export type KmsLogger = (event: { event: string; code?: string; status?: number }) => void;

export function createKmsApp(kms: Kms, log: KmsLogger = () => {}): Hono {
  const app = new Hono();
  app.onError((e, c) => {
    const p = problemOf(e);
    log({ event: 'kms.refused', code: p.code, status: p.status });
    return c.json(p, p.status as 400, { 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
  });
  app.notFound(() => {
    throw new PropsError('ERR_HTTP_NOT_FOUND');
  });
  app.use('*', async (c, next) => {
    if (c.req.method === 'POST' && !(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json'))
      throw new PropsError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
    await next();
    c.header('cache-control', 'no-store');
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new PropsError('ERR_INPUT_TOO_LARGE');
      },
    }),
  );
  const body = async (req: Request) => parseJsonText(await req.text(), MAX_BODY_BYTES);

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/v1/kms', (c) => c.json(kms.info()));
  app.post('/v1/kms/challenge', (c) => c.json(kms.challenge()));
  app.post('/v1/kms/release', async (c) => {
    const answer = await kms.release(await body(c.req.raw));
    log({ event: 'kms.released' });
    return c.json(answer);
  });
  app.post('/v1/kms/heads', async (c) => c.json(await kms.witness(await body(c.req.raw))));
  app.get('/v1/kms/heads/:logId', (c) => {
    const logId = c.req.param('logId');
    if (!LOG_ID.test(logId)) throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'logId' });
    return c.json(kms.witnessed(logId as Hex));
  });
  return app;
}
