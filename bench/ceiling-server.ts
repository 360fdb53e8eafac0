// The benchmark's ceiling: a bare Hono endpoint that answers each request with one P-256 signature, served the
// same way as `props serve` (its own process, @hono/node-server on loopback). Prints {"port": N} when listening.
import { generateKeyPairSync, sign } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const app = new Hono();
app.post('/sign', async (c) => {
  const body = new Uint8Array(await c.req.arrayBuffer());
  const signature = sign('sha256', body, { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return c.json({ signature }, 201);
});
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
  process.stdout.write(`${JSON.stringify({ port: info.port })}\n`),
);
