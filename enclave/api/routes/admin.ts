// The operator's routes (admin token): create a lender (its API key shown once) and apply retention now.
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiContext } from '../context.ts';
import { errors, json, ok, router } from '../http.ts';
import { adminAuth, hashKey } from '../middleware/auth.ts';

const lenderBody = z.strictObject({
  name: z.string().min(1).max(64),
  ratePerSecond: z.number().int().min(1).max(100_000).optional(),
});

export function adminRoutes({ deps, nowS, applyRetention }: ApiContext) {
  const { store, limits } = deps;
  const r = router();
  r.use('/v1/admin/*', adminAuth(deps));
  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/lenders',
      security: [{ adminToken: [] }],
      request: { body: { ...json(lenderBody), required: true } },
      responses: { 201: ok('lender created; the API key is shown once'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const apiKey = Buffer.from(deps.random(32)).toString('base64url');
      // Lower-case hex: the form a data owner's consent names a lender in (protocol/oracle.ts lenderId).
      const id = `lender-${Buffer.from(deps.random(9)).toString('hex')}`;
      await store.createLender({
        id,
        name: body.name,
        keyHash: hashKey(apiKey),
        ratePerSecond: body.ratePerSecond ?? limits.lenderRatePerSecond,
        createdAt: nowS(),
      });
      await store.audit('lender.created', 'admin', id);
      return c.json({ lenderId: id, apiKey }, 201);
    },
  );
  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/retention',
      security: [{ adminToken: [] }],
      request: { body: { ...json(z.strictObject({})), required: true } },
      responses: { 200: ok('ciphertexts past retention deleted'), ...errors },
    }),
    async (c) => c.json({ deleted: await applyRetention() }, 200),
  );
  return r;
}
