// The lender's routes: score under a consent (idempotent per key), list its jobs, read one, and its audit bundle.
import { createRoute, z } from '@hono/zod-openapi';
import { canonicalBytes, hex32, PropsError, sha256Digest, toHex } from '../../../protocol/index.ts';
import type { JobRow } from '../../store/index.ts';
import { jobBundle } from '../bundle.ts';
import type { ApiContext } from '../context.ts';
import { errors, JSON_TYPE, jobId, json, ok, router, type Router } from '../http.ts';
import { jobJson, jobSummary, loadJob } from '../job-view.ts';
import { lenderAuth } from '../middleware/auth.ts';

const jobBody = z
  .strictObject({
    consentId: hex32,
    nonce: hex32,
    escrowJobId: hex32.optional(),
    threshold: z.number().int().min(0).max(1000).optional(),
  })
  .openapi('JobRequest');
// The idempotency key is checked from its one header in the handler, not by a header validator on the route: hono's
// validator reads every header (`c.req.header()`), which on @hono/node-server builds a full fetch Headers object for
// each request (~2 % of the event loop's busy time under load), where one header stays on node's parsed headers. The
// OpenAPI document describes it as the validator did, from the same schema.
const idempotencyKey = z
  .string()
  .min(8)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/);
const idempotencyKeyParameter = {
  in: 'header',
  name: 'idempotency-key',
  required: true,
  schema: idempotencyKeySchema(),
} as const;
function idempotencyKeySchema(): Record<string, unknown> {
  const { $schema: _, ...schema } = z.toJSONSchema(idempotencyKey) as Record<string, unknown>;
  return schema;
}
const listQuery = z.strictObject({
  after: jobId.optional(),
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,2}$/)
    .transform(Number)
    .pipe(z.number().max(100))
    .optional(),
});

export function jobRoutes(ctx: ApiContext) {
  const r = router();
  r.use('/v1/jobs/*', lenderAuth(ctx.deps));
  postJobRoute(r, ctx);
  readJobRoutes(r, ctx);
  return r;
}

/** POST /v1/jobs: accept a job under a consent (idempotent per lender and key) and answer when scored or after the wait. */
function postJobRoute(r: Router, ctx: ApiContext) {
  const { deps, runner, ids, nowS } = ctx;
  const { store, limits } = deps;

  /** The consent a new job is scored under, refused if it is not this lender's, not for an allowed purpose, or expired. */
  const admissibleConsent = async (consentId: string, lenderId: string, now: number) => {
    const consent = await store.consentMeta(consentId);
    if (!consent) throw new PropsError('ERR_CONSENT_NOT_FOUND');
    if (consent.lenderId !== lenderId) throw new PropsError('ERR_CONSENT_WRONG_LENDER');
    if (!limits.allowedPurposes.includes(consent.purpose)) throw new PropsError('ERR_CONSENT_PURPOSE_NOT_ALLOWED');
    if (consent.expiresAt <= now) throw new PropsError('ERR_CONSENT_EXPIRED');
    return consent;
  };
  /** A repeat of a job already accepted answers with that job, whatever became of its consent since. */
  const repeated = async (existing: JobRow | undefined, requestHash: string) => {
    if (!existing) return undefined;
    if (existing.requestHash !== requestHash) throw new PropsError('ERR_IDEMPOTENCY_CONFLICT');
    const stored = await loadJob(store, existing.id);
    return jobJson(stored.job, stored.result);
  };

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/jobs',
      security: [{ lenderKey: [] }],
      parameters: [idempotencyKeyParameter],
      request: { body: { ...json(jobBody), required: true } },
      responses: {
        200: ok(
          'idempotent repeat: the job already accepted (even when its consent has since expired or been used up)',
        ),
        201: ok('finished within the wait: scored (state done), or failed (state failed, with its error code)'),
        202: ok('accepted, still running'),
        ...errors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const key = idempotencyKey.safeParse(c.req.header('idempotency-key'));
      if (!key.success)
        throw new PropsError('ERR_INPUT_MALFORMED', {
          detail: `header.idempotency-key: ${key.error.issues[0]?.code ?? 'invalid'}`,
        });
      const idem = key.data;
      const lenderId = c.get('lenderId');
      const now = nowS();
      const requestHash = toHex(sha256Digest(canonicalBytes(body)));
      let consent: Awaited<ReturnType<typeof admissibleConsent>>;
      try {
        consent = await admissibleConsent(body.consentId, lenderId, now);
      } catch (e) {
        // Only on refusal is the key looked up (a read, spending nothing): a retry of a job the lender paid for finds it.
        const repeat = await repeated(await store.jobByIdempotencyKey(lenderId, idem), requestHash);
        if (repeat === undefined) throw e;
        return c.body(repeat, 200, JSON_TYPE) as never;
      }
      const sub = await store.submissionMeta(consent.submissionId);
      if (!sub) throw new PropsError('ERR_SUBMISSION_NOT_FOUND');
      // A job this instance can decrypt is claimed by it at acceptance and run here; another waits for its instance.
      const mine = !store.shared || sub.decryptionKey === deps.decryptionKey;
      const { job, created } = await store.acceptJob({
        job: {
          id: ids.timePrefixed(16),
          lenderId,
          idempotencyKey: idem,
          requestHash,
          consentId: consent.id,
          submissionId: consent.submissionId,
          // A paid job's result must name the escrow job (the escrow releases only for requestId = its job id).
          requestId: body.escrowJobId ?? ids.timePrefixed(32),
          nonce: body.nonce,
          escrowJobId: body.escrowJobId ?? null,
          threshold: body.threshold ?? 600,
          state: 'accepted',
          errorCode: null,
          createdAt: now,
          updatedAt: now,
          decryptionKey: sub.decryptionKey,
          claimedBy: mine ? deps.logs.own.id : null,
          leaseUntil: mine ? deps.clock().getTime() + limits.jobLeaseMs : null,
        },
        now,
        borrowerCap: limits.borrowerCap,
        borrowerWindowSeconds: limits.borrowerWindowSeconds,
      });
      if (!created) {
        await runner.waitFor(job.id, 0);
        return c.body((await repeated(job, requestHash)) as string, 200, JSON_TYPE) as never;
      }
      ctx.metrics.count('props_jobs_accepted_total');
      if (mine) runner.enqueue(job.id, job);
      // Scored here while we waited: the answer comes from the row accepted and the result just stored, without re-reads.
      const done = await runner.waitFor(job.id, limits.jobWaitMs);
      if (done) return c.body(jobJson(job, { ...done, logId: deps.logs.own.id }), 201, JSON_TYPE) as never;
      const stored = await loadJob(store, job.id);
      return c.body(
        jobJson(stored.job, stored.result),
        stored.job.state === 'accepted' ? 202 : 201,
        JSON_TYPE,
      ) as never;
    },
  );
}

/** The lender's reads: its job list, one job, one job's audit bundle. */
function readJobRoutes(r: Router, { deps }: ApiContext) {
  const { store } = deps;
  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs',
      security: [{ lenderKey: [] }],
      request: { query: listQuery },
      responses: {
        200: ok(
          "the calling lender's jobs, newest first (by creation time, then id); `next`: the `after` of the next page, or null",
        ),
        ...errors,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const lenderId = c.get('lenderId');
      const limit = q.limit ?? 20;
      let before: JobRow | undefined;
      if (q.after !== undefined) {
        before = await store.getJob(q.after);
        // Another lender's job is indistinguishable from no job.
        if (!before || before.lenderId !== lenderId) throw new PropsError('ERR_JOB_NOT_FOUND');
      }
      const rows = await store.listJobs(lenderId, limit, before && { createdAt: before.createdAt, id: before.id });
      const next = rows.length === limit ? (rows.at(-1) as JobRow).id : null;
      return c.json({ jobs: rows.map(jobSummary), next }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs/{id}',
      security: [{ lenderKey: [] }],
      request: { params: z.object({ id: jobId }) },
      responses: { 200: ok('the job and, when done, its result attestation, log id and log index'), ...errors },
    }),
    async (c) => {
      const { job, result } = await loadJob(store, c.req.valid('param').id);
      // Another lender's job is indistinguishable from no job.
      if (job.lenderId !== c.get('lenderId')) throw new PropsError('ERR_JOB_NOT_FOUND');
      return c.body(jobJson(job, result), 200, JSON_TYPE) as never;
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs/{id}/bundle',
      security: [{ lenderKey: [] }],
      request: { params: z.object({ id: jobId }) },
      responses: {
        200: ok(
          'audit bundle for `props verify`: the evidence, manifest and JWKS the result was signed under, the result and its log inclusion proof under a signed head',
        ),
        ...errors,
      },
    }),
    async (c) => {
      const { job, result } = await loadJob(store, c.req.valid('param').id);
      if (job.lenderId !== c.get('lenderId')) throw new PropsError('ERR_JOB_NOT_FOUND');
      if (!result) throw new PropsError('ERR_JOB_NOT_FOUND', { detail: 'no result yet' });
      return c.json((await jobBundle(deps, job, result)) as unknown as Record<string, unknown>, 200);
    },
  );
}
