// The lender/data-owner/admin HTTP API on Hono, assembled from one sub-app per resource. Routes are declared with zod
// schemas (@hono/zod-openapi) so the OpenAPI document is generated from what is enforced; every body is size-limited
// and strict (unknown fields are refused); every failure is RFC 9457 problem+json with a stable code.
import { HTTPException } from 'hono/http-exception';
import { LRUCache } from 'lru-cache';
import { PropsError, type Statement } from '../../protocol/index.ts';
import type { ApiContext } from './context.ts';
import type { ServiceDeps } from './deps.ts';
import { router, type Router } from './http.ts';
import { idSource } from './ids.ts';
import { createJobRunner, type JobRunner } from './jobs.ts';
import { metrics as newMetrics } from './metrics.ts';
import { useRequestRules } from './middleware/requests.ts';
import { problemOf } from './problem.ts';
import { adminRoutes } from './routes/admin.ts';
import { attestationRoutes } from './routes/attestation.ts';
import { docsRoutes } from './routes/docs.ts';
import { jobRoutes } from './routes/jobs.ts';
import { logRoutes } from './routes/log.ts';
import { ownerRoutes } from './routes/owner.ts';

export type ScoringService = { app: Router; runner: JobRunner; applyRetention(): Promise<number> };

export function createScoringApp(deps: ServiceDeps): ScoringService {
  const { store, limits, clock } = deps;
  const nowS = () => Math.floor(clock().getTime() / 1000);
  // Bounded (limits.cachedStatements): a statement dropped from it is re-opened from the store when a job needs it.
  const statementCache = new LRUCache<string, Statement>({ max: limits.cachedStatements });
  const runner = createJobRunner(deps, statementCache);
  const metrics = newMetrics();

  async function applyRetention(): Promise<number> {
    const now = nowS();
    const n = await store.deleteCiphertexts(now - limits.retentionSeconds, now);
    if (n > 0) {
      statementCache.clear();
      await store.audit('retention.deleted', 'system', String(n));
    }
    return n;
  }
  const ctx: ApiContext = {
    deps,
    runner,
    statementCache,
    metrics,
    ids: idSource(deps.random, clock),
    nowS,
    applyRetention,
  };

  const app = router();
  app.onError((err, c) => {
    let e: unknown = err;
    if (err instanceof HTTPException && !(err.cause instanceof PropsError)) {
      e = new PropsError(
        err.status === 400 ? 'ERR_JSON_MALFORMED' : err.status === 413 ? 'ERR_INPUT_TOO_LARGE' : 'ERR_INPUT_MALFORMED',
      );
    }
    const p = problemOf(e);
    if (p.status >= 500) deps.logger({ event: 'http.error', code: p.code, route: c.req.routePath });
    metrics.count(`props_http_errors_total{code="${p.code}"}`);
    return c.body(JSON.stringify(p), p.status as 400, { 'content-type': 'application/problem+json' });
  });
  app.notFound(() => {
    throw new PropsError('ERR_HTTP_NOT_FOUND');
  });
  useRequestRules(app, { maxBodyBytes: limits.maxBodyBytes, metrics });
  for (const routes of [attestationRoutes, ownerRoutes, jobRoutes, logRoutes, adminRoutes]) app.route('/', routes(ctx));
  docsRoutes(app, () =>
    metrics.text({ props_log_size: deps.logs.own.size(), props_store_queries_total: store.queryCount?.() }),
  );
  return { app, runner, applyRetention };
}
