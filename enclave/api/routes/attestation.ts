// What a data owner checks before sending, and what an auditor fetches after: this boot's evidence, manifest and
// JWKS, and any earlier boot's (of any instance on the store) from the evidence archive, by digest.
import { createRoute, z } from '@hono/zod-openapi';
import { hex32, PropsError } from '../../../protocol/index.ts';
import type { ApiContext } from '../context.ts';
import { errors, JSON_TYPE, ok, router } from '../http.ts';

export function attestationRoutes({ deps }: ApiContext) {
  const { enclave, store, logs } = deps;
  const r = router();
  r.openapi(createRoute({ method: 'get', path: '/healthz', responses: { 200: ok('alive') } }), (c) =>
    c.json({ ok: true, logSize: logs.own.size() }, 200),
  );
  r.openapi(
    createRoute({ method: 'get', path: '/v1/attestation/evidence', responses: { 200: ok('the enclave evidence') } }),
    (c) => c.json(enclave.evidence as Record<string, unknown>, 200),
  );
  r.openapi(
    createRoute({ method: 'get', path: '/v1/attestation/manifest', responses: { 200: ok('the enclave manifest') } }),
    (c) => c.json(enclave.manifest as Record<string, unknown>, 200),
  );
  for (const path of ['/v1/attestation/jwks', '/.well-known/jwks.json']) {
    r.openapi(createRoute({ method: 'get', path, responses: { 200: ok('the enclave JWKS') } }), (c) =>
      c.json(enclave.jwks as Record<string, unknown>, 200),
    );
  }
  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/attestation/evidence/{digest}',
      request: { params: z.object({ digest: hex32 }) },
      responses: { 200: ok('an archived boot: {evidence, manifest, jwks} whose evidence has this digest'), ...errors },
    }),
    async (c) => {
      const row = await store.getEvidence(c.req.valid('param').digest);
      if (!row) throw new PropsError('ERR_EVIDENCE_NOT_FOUND');
      // Stored as the JSON text each part was served as: spliced, not re-serialized.
      return c.body(
        `{"evidence":${row.evidence},"manifest":${row.manifest},"jwks":${row.jwks}}`,
        200,
        JSON_TYPE,
      ) as never;
    },
  );
  return r;
}
