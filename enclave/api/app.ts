// The lender/data-owner/admin HTTP API on Hono. Routes are declared with zod schemas (@hono/zod-openapi) so the
// OpenAPI document is generated from what is enforced; every body is size-limited and strict (unknown fields are
// refused); every failure is RFC 9457 problem+json with a stable code.
import { timingSafeEqual } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { LRUCache } from 'lru-cache';
import {
  address,
  canonicalBytes,
  chainKeyId,
  checkpointDigest,
  fromHex,
  hex32,
  PropsError,
  propsDomain,
  sha256Digest,
  toHex,
  utf8,
  type Hex,
  type Statement,
} from '../../protocol/index.ts';
import { buildAuditBundle } from '../bundle.ts';
import type { JobRow } from '../store/index.ts';
import type { ServiceDeps } from './deps.ts';
import { attestationJson, createJobRunner, type JobRunner } from './jobs.ts';
import { problemOf } from './problem.ts';
import { keyedNullifier } from './nullifier.ts';

type Env = { Variables: { lenderId: string } };

// The two SHA-256s of every scoring request (the API key's, the idempotency request hash) go through hash-wasm, not
// node:crypto: each `createHash` is a native object with a weak handle that the next scavenge must process (about a
// tenth of each scavenge's pause under load, `--trace-gc-nvp`: heap.external_weak_global_handles), and noble's JS SHA-256
// costs twice the time. Same digests.
const hashKey = (key: string): Hex => toHex(sha256Digest(utf8(key)));
const anyObject = z.record(z.string(), z.unknown());
const json = <S extends z.ZodType>(schema: S) => ({ content: { 'application/json': { schema } } });
const problem = { description: 'RFC 9457 problem details with a stable `code`', content: { 'application/problem+json': { schema: anyObject } } };
const errors = { 400: problem, 401: problem, 403: problem, 404: problem, 409: problem, 413: problem, 415: problem, 422: problem, 429: problem };
const ok = (description: string, schema: z.ZodType = anyObject) => ({ description, ...json(schema) });

const submissionBody = z.strictObject({ jwe: z.string().min(1).max(4_000_000) }).openapi('SubmissionRequest');
const consentBody = z.strictObject({ consent: z.string().min(1).max(8192) }).openapi('ConsentRequest');
const jobBody = z
  .strictObject({
    consentId: hex32,
    nonce: hex32,
    escrowJobId: hex32.optional(),
    threshold: z.number().int().min(0).max(1000).optional(),
  })
  .openapi('JobRequest');
const lenderBody = z.strictObject({ name: z.string().min(1).max(64), ratePerSecond: z.number().int().min(1).max(100_000).optional() });
// The idempotency key is checked from its one header in the handler, not by a header validator on the route: hono's
// validator reads every header (`c.req.header()`), which on @hono/node-server builds a full fetch Headers object for
// each request (~2 % of the event loop's busy time under load), where one header stays on node's parsed headers. The
// OpenAPI document describes it as the validator did, from the same schema.
const idempotencyKey = z.string().min(8).max(128).regex(/^[A-Za-z0-9_.:-]+$/);
const idempotencyKeyParameter = { in: 'header', name: 'idempotency-key', required: true, schema: idempotencyKeySchema() } as const;
function idempotencyKeySchema(): Record<string, unknown> {
  const { $schema: _, ...schema } = z.toJSONSchema(idempotencyKey) as Record<string, unknown>;
  return schema;
}

export type ScoringService = { app: OpenAPIHono<Env>; runner: JobRunner; applyRetention(): Promise<number> };

export function createScoringApp(deps: ServiceDeps): ScoringService {
  const { enclave, store, log, limits, clock } = deps;
  const nowS = () => Math.floor(clock().getTime() / 1000);
  // Bounded (limits.cachedStatements): a statement dropped from it is re-opened from the store when a job needs it.
  const statementCache = new LRUCache<string, Statement>({ max: limits.cachedStatements });
  const runner = createJobRunner(deps, statementCache);
  const lenderCache = new Map<string, { id: string; rate: number }>();
  const buckets = new Map<string, { tokens: number; at: number }>();
  const metrics = new Map<string, number>();
  const count = (k: string) => metrics.set(k, (metrics.get(k) ?? 0) + 1);

  const app = new OpenAPIHono<Env>({
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const isHeader = result.target === 'header';
        throw new PropsError(isHeader ? 'ERR_INPUT_MALFORMED' : 'ERR_INPUT_MALFORMED', {
          detail: `${result.target}.${issue?.path.join('.') || '(root)'}: ${issue?.code ?? 'invalid'}`,
        });
      }
      return undefined;
    },
  });

  app.onError((err, c) => {
    let e: unknown = err;
    if (err instanceof HTTPException && !(err.cause instanceof PropsError)) {
      e = new PropsError(err.status === 400 ? 'ERR_JSON_MALFORMED' : err.status === 413 ? 'ERR_INPUT_TOO_LARGE' : 'ERR_INPUT_MALFORMED');
    }
    const p = problemOf(e);
    if (p.status >= 500) deps.logger({ event: 'http.error', code: p.code, route: c.req.routePath });
    count(`props_http_errors_total{code="${p.code}"}`);
    return c.body(JSON.stringify(p), p.status as 400, { 'content-type': 'application/problem+json' });
  });
  app.notFound(() => {
    throw new PropsError('ERR_HTTP_NOT_FOUND');
  });

  // Every response: no framing (the served pages hold buttons that encrypt, submit and grant consents, which another
  // site must not clickjack; a <meta> CSP cannot say frame-ancestors), no MIME sniffing, hono's other defaults. API
  // answers (results, receipts, bundles) are not to be kept by caches.
  app.use('*', secureHeaders({ xFrameOptions: 'DENY', contentSecurityPolicy: { frameAncestors: ["'none'"] } }));
  app.use('/v1/*', async (c, next) => {
    await next();
    c.header('cache-control', 'no-store');
  });
  app.use('*', async (c, next) => {
    count('props_http_requests_total');
    if (c.req.method === 'POST' && !(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      throw new PropsError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
    }
    await next();
  });
  const streamedBodyLimit = bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: () => {
      throw new PropsError('ERR_INPUT_TOO_LARGE');
    },
  });
  app.use('*', async (c, next) => {
    // A body with a Content-Length (and no Transfer-Encoding) is judged by the header, as hono's bodyLimit does, but
    // without touching `c.req.raw.body`, which on @hono/node-server builds a full fetch Request and web stream.
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (parseInt(length || '0', 10) > limits.maxBodyBytes) throw new PropsError('ERR_INPUT_TOO_LARGE');
      return next();
    }
    return streamedBodyLimit(c, next);
  });

  // ---------------------------------------------------------------- auth
  const lenderAuth = async (c: Context<Env>, next: () => Promise<void>) => {
    const h = c.req.header('authorization');
    if (!h) throw new PropsError('ERR_AUTH_MISSING');
    const m = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(h);
    if (!m?.[1]) throw new PropsError('ERR_AUTH_INVALID');
    const keyHash = hashKey(m[1]);
    let lender = lenderCache.get(keyHash);
    if (!lender) {
      const row = await store.lenderByKeyHash(keyHash);
      if (!row) throw new PropsError('ERR_AUTH_INVALID');
      lender = { id: row.id, rate: row.ratePerSecond };
      lenderCache.set(keyHash, lender);
    }
    // Token bucket per lender: burst of one second's allowance.
    const t = clock().getTime();
    const b = buckets.get(lender.id) ?? { tokens: lender.rate, at: t };
    b.tokens = Math.min(lender.rate, b.tokens + ((t - b.at) / 1000) * lender.rate);
    b.at = t;
    if (b.tokens < 1) {
      buckets.set(lender.id, b);
      throw new PropsError('ERR_RATE_LIMITED');
    }
    b.tokens -= 1;
    buckets.set(lender.id, b);
    c.set('lenderId', lender.id);
    await next();
  };
  const adminAuth = async (c: Context<Env>, next: () => Promise<void>) => {
    const h = c.req.header('authorization');
    if (!h) throw new PropsError('ERR_AUTH_MISSING');
    const m = /^Bearer (\S{16,256})$/.exec(h);
    const got = Buffer.from(hashKey(m?.[1] ?? ''));
    const want = Buffer.from(deps.adminTokenHash);
    if (!m || got.length !== want.length || !timingSafeEqual(got, want)) throw new PropsError('ERR_AUTH_FORBIDDEN');
    await next();
  };
  app.use('/v1/jobs/*', lenderAuth);
  app.use('/v1/admin/*', adminAuth);

  // ---------------------------------------------------------------- attestation
  app.openapi(createRoute({ method: 'get', path: '/healthz', responses: { 200: ok('alive') } }), (c) =>
    c.json({ ok: true, logSize: log.size() }, 200),
  );
  app.openapi(createRoute({ method: 'get', path: '/v1/attestation/evidence', responses: { 200: ok('the enclave evidence') } }), (c) =>
    c.json(enclave.evidence as Record<string, unknown>, 200),
  );
  app.openapi(createRoute({ method: 'get', path: '/v1/attestation/manifest', responses: { 200: ok('the enclave manifest') } }), (c) =>
    c.json(enclave.manifest as Record<string, unknown>, 200),
  );
  for (const path of ['/v1/attestation/jwks', '/.well-known/jwks.json']) {
    app.openapi(createRoute({ method: 'get', path, responses: { 200: ok('the enclave JWKS') } }), (c) => c.json(enclave.jwks as Record<string, unknown>, 200));
  }

  // ---------------------------------------------------------------- data owner
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/submissions',
      request: { body: { ...json(submissionBody), required: true } },
      responses: { 201: ok('receipt signed by the enclave'), ...errors },
    }),
    async (c) => {
      const { jwe } = c.req.valid('json');
      const sub = await deps.ingest(jwe);
      const iat = nowS();
      await store.insertSubmission({
        id: sub.submissionId,
        ciphertext: jwe,
        inputCommitment: sub.inputCommitment,
        nullifier: keyedNullifier(deps.nullifierKey, sub.borrowerIdentity),
        ownerKey: JSON.stringify(sub.ownerKey),
        createdAt: iat,
        deletedAt: null,
      });
      statementCache.set(sub.submissionId, sub.statement);
      const receipt = sub.receipt ?? await enclave.signJws(
        canonicalBytes({ v: 1, typ: 'props-receipt', submissionId: sub.submissionId, inputCommitment: sub.inputCommitment, iat }),
        { typ: 'props-receipt+jws' },
      );
      deps.logger({ event: 'submission.received', submission: sub.submissionId });
      return c.json({ submissionId: sub.submissionId, inputCommitment: sub.inputCommitment, receipt }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/consents',
      request: { body: { ...json(consentBody), required: true } },
      responses: { 201: ok('consent registered'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const consent = await deps.verifyConsent(
        body.consent,
        async (id) => {
          const s = await store.getSubmission(id);
          return s && s.ciphertext !== null ? JSON.parse(s.ownerKey) : undefined;
        },
        (inputCommitment) => store.liveSubmissionIds(inputCommitment),
      );
      if (!limits.allowedPurposes.includes(consent.purpose)) throw new PropsError('ERR_CONSENT_PURPOSE_NOT_ALLOWED');
      if (consent.expiresAt <= nowS()) throw new PropsError('ERR_CONSENT_EXPIRED');
      await store.insertConsent({
        id: consent.consentId,
        submissionId: consent.submissionId,
        lenderId: consent.lender,
        purpose: consent.purpose,
        expiresAt: consent.expiresAt,
        maxUses: consent.maxUses,
        uses: 0,
        jws: body.consent,
        createdAt: nowS(),
      });
      await store.audit('consent.registered', 'owner', consent.consentId);
      return c.json({ consentId: consent.consentId, lender: consent.lender, expiresAt: consent.expiresAt, maxUses: consent.maxUses }, 201);
    },
  );

  // ---------------------------------------------------------------- lender
  // Per-request random bytes are drawn from the source a block at a time (one CSPRNG call per 4 KiB, each byte handed
  // out once) rather than one call per identifier.
  let pool: Uint8Array = new Uint8Array(0);
  let poolAt = 0;
  const randomBytes = (n: number): Uint8Array => {
    if (poolAt + n > pool.length) {
      pool = deps.random(4096);
      poolAt = 0;
    }
    const out = pool.slice(poolAt, poolAt + n);
    pool.fill(0, poolAt, poolAt + n);
    poolAt += n;
    return out;
  };
  // Job ids and request ids: a 48-bit millisecond time prefix, then random bits (80 for a job id, 208 for a request
  // id, which results carry as their bytes32). The store's indexes keyed by them then grow at their end instead of
  // taking a random page each: a group of 10 acceptances wrote 14.7 pages of the request-id index to the WAL with
  // random ids and 3.2 with time-prefixed ones (`npx tsx bench/wal-pages.ts --request-ids random|time`). The ids stay
  // unguessable.
  const timePrefixedId = (bytes: 16 | 32): Hex => {
    const id = new Uint8Array(bytes);
    let ms = Math.max(0, Math.floor(clock().getTime()));
    for (let i = 5; i >= 0; i--) {
      id[i] = ms % 256;
      ms = Math.floor(ms / 256);
    }
    id.set(randomBytes(bytes - 6), 6);
    return toHex(id);
  };

  const loadJob = async (id: string) => {
    const job = await store.getJob(id);
    if (!job) throw new PropsError('ERR_JOB_NOT_FOUND');
    const row = job.state === 'done' ? await store.getResult(id) : undefined;
    return { job, result: row && { attestation: attestationJson(row.attestation, row.head), logIndex: row.logIndex } };
  };
  /**
   * A job's view as JSON text (the body of POST and GET /v1/jobs). A result's attestation is stored as JSON text (a
   * batched one with its batch head put back, `attestationJson`) and is spliced in as is, not parsed and re-serialized.
   */
  const jobJson = (job: JobRow, result?: { attestation: string; logIndex: number }): string => {
    const head = JSON.stringify({
      jobId: job.id,
      state: result ? 'done' : job.state,
      requestId: job.requestId,
      nonce: job.nonce,
      consentId: job.consentId,
      ...(job.escrowJobId ? { escrowJobId: job.escrowJobId } : {}),
      ...(job.errorCode ? { error: job.errorCode } : {}),
    });
    return result ? `${head.slice(0, -1)},"attestation":${result.attestation},"logIndex":${result.logIndex}}` : head;
  };
  const JSON_TYPE = { 'content-type': 'application/json' };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/jobs',
      security: [{ lenderKey: [] }],
      parameters: [idempotencyKeyParameter],
      request: { body: { ...json(jobBody), required: true } },
      responses: { 200: ok('idempotent repeat: the job already accepted'), 201: ok('finished within the wait: scored (state done), or failed (state failed, with its error code)'), 202: ok('accepted, still running'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const key = idempotencyKey.safeParse(c.req.header('idempotency-key'));
      if (!key.success) throw new PropsError('ERR_INPUT_MALFORMED', { detail: `header.idempotency-key: ${key.error.issues[0]?.code ?? 'invalid'}` });
      const idem = key.data;
      const lenderId = c.get('lenderId');
      const now = nowS();
      const consent = await store.consentMeta(body.consentId);
      if (!consent) throw new PropsError('ERR_CONSENT_NOT_FOUND');
      if (consent.lenderId !== lenderId) throw new PropsError('ERR_CONSENT_WRONG_LENDER');
      if (!limits.allowedPurposes.includes(consent.purpose)) throw new PropsError('ERR_CONSENT_PURPOSE_NOT_ALLOWED');
      if (consent.expiresAt <= now) throw new PropsError('ERR_CONSENT_EXPIRED');
      const requestHash = toHex(sha256Digest(canonicalBytes(body)));
      const { job, created } = await store.acceptJob({
        job: {
          id: timePrefixedId(16),
          lenderId,
          idempotencyKey: idem,
          requestHash,
          consentId: consent.id,
          submissionId: consent.submissionId,
          // A paid job's result must name the escrow job (the escrow releases only for requestId = its job id).
          requestId: body.escrowJobId ?? timePrefixedId(32),
          nonce: body.nonce,
          escrowJobId: body.escrowJobId ?? null,
          threshold: body.threshold ?? 600,
          state: 'accepted',
          errorCode: null,
          createdAt: now,
          updatedAt: now,
        },
        now,
        borrowerCap: limits.borrowerCap,
        borrowerWindowSeconds: limits.borrowerWindowSeconds,
      });
      if (created) {
        count('props_jobs_accepted_total');
        runner.enqueue(job.id, job);
        // Scored while we waited: the answer comes from the row accepted and the result just stored, without re-reads.
        const done = await runner.waitFor(job.id, limits.jobWaitMs);
        if (done) return c.body(jobJson(job, done), 201, JSON_TYPE) as never;
      } else await runner.waitFor(job.id, 0);
      const stored = await loadJob(job.id);
      const status = created ? (stored.job.state === 'accepted' ? 202 : 201) : 200;
      return c.body(jobJson(stored.job, stored.result), status, JSON_TYPE) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs/{id}',
      security: [{ lenderKey: [] }],
      request: { params: z.object({ id: z.string().regex(/^0x[0-9a-f]{32}$/) }) },
      responses: { 200: ok('the job and, when done, its result attestation and log index'), ...errors },
    }),
    async (c) => {
      const { job, result } = await loadJob(c.req.valid('param').id);
      // Another lender's job is indistinguishable from no job.
      if (job.lenderId !== c.get('lenderId')) throw new PropsError('ERR_JOB_NOT_FOUND');
      return c.body(jobJson(job, result), 200, JSON_TYPE) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs/{id}/bundle',
      security: [{ lenderKey: [] }],
      request: { params: z.object({ id: z.string().regex(/^0x[0-9a-f]{32}$/) }) },
      responses: { 200: ok('audit bundle for `props verify`: evidence, manifest, JWKS, the result and its log inclusion proof under a signed head'), ...errors },
    }),
    async (c) => {
      const { job, result } = await loadJob(c.req.valid('param').id);
      if (job.lenderId !== c.get('lenderId')) throw new PropsError('ERR_JOB_NOT_FOUND');
      if (!result) throw new PropsError('ERR_JOB_NOT_FOUND', { detail: 'no result yet' });
      const head = await log.signedHead();
      const inclusion = log.inclusion(result.logIndex, head.treeSize);
      const bundle = buildAuditBundle(enclave, [{ request: { requestId: job.requestId, nonce: job.nonce }, attestation: JSON.parse(result.attestation) }], clock());
      bundle.logProofs.push({ type: 'props-log-inclusion', v: 1, requestId: job.requestId, ...inclusion, signedTreeHead: head });
      return c.json(bundle as unknown as Record<string, unknown>, 200);
    },
  );

  // ---------------------------------------------------------------- transparency log
  app.openapi(createRoute({ method: 'get', path: '/v1/log/head', responses: { 200: ok('the signed tree head') } }), async (c) =>
    c.json(await log.signedHead(), 200),
  );
  // Decimal digits only: coercion would read an empty value (`?index=`) as 0 and `1e3` or ` 7` as numbers.
  const size = z.string().regex(/^(0|[1-9][0-9]{0,15})$/).transform(Number).pipe(z.number().max(Number.MAX_SAFE_INTEGER));
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/log/inclusion',
      request: { query: z.strictObject({ index: size, treeSize: size }) },
      responses: { 200: ok('RFC 9162 inclusion proof'), ...errors },
    }),
    (c) => {
      const q = c.req.valid('query');
      return c.json(log.inclusion(q.index, q.treeSize), 200);
    },
  );
  // The log's current head as a registry checkpoint: the EIP-712 Checkpoint(keyId, treeSize, root) under the named
  // registry's domain, signed by the enclave's on-chain key. Anyone relays it (postCheckpoint); the log's results are
  // then paid by inclusion proof at that size (releaseWithProof), batched ones included. The enclave vouches only for
  // its own log's head: which registry a caller names changes nothing it asserts. One signature per registry and size.
  const checkpoints = new LRUCache<string, { treeSize: number; body: string }>({ max: 64 });
  const chainId = size.pipe(z.number().positive());
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/log/checkpoint',
      request: { query: z.strictObject({ chainId, registry: address }) },
      responses: { 200: ok('the current head as a registry checkpoint, signed by the enclave\'s on-chain key'), ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const signer = enclave.keys.chainSigner;
      // The registry verifies checkpoints with P-256 (P256VERIFY) only.
      if (signer.scheme !== 'p256') throw new PropsError('ERR_CHAIN_KEY_INVALID', { detail: 'checkpoints need a P-256 on-chain key' });
      const treeSize = log.size();
      // The registry takes only growing heads, from a first one of at least one leaf.
      if (treeSize === 0) throw new PropsError('ERR_LOG_INDEX_OUT_OF_RANGE', { detail: 'empty log' });
      const key = `${q.chainId}:${q.registry.toLowerCase()}`;
      const cached = checkpoints.get(key);
      if (cached?.treeSize === treeSize) return c.body(cached.body, 200, JSON_TYPE) as never;
      const root = log.rootAt(treeSize);
      const keyId = chainKeyId(signer.publicKey);
      const digest = checkpointDigest(propsDomain(q.chainId, q.registry as Hex), { keyId, treeSize: BigInt(treeSize), root });
      const signature = await signer.signDigest(fromHex(digest, 32));
      const body = JSON.stringify({ keyId, publicKey: signer.publicKey, chainId: q.chainId, registry: q.registry, treeSize, root, signature });
      checkpoints.set(key, { treeSize, body });
      return c.body(body, 200, JSON_TYPE) as never;
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/log/consistency',
      request: { query: z.strictObject({ oldSize: size, newSize: size }) },
      responses: { 200: ok('RFC 9162 consistency proof'), ...errors },
    }),
    (c) => {
      const q = c.req.valid('query');
      return c.json(log.consistency(q.oldSize, q.newSize), 200);
    },
  );

  // ---------------------------------------------------------------- admin
  app.openapi(
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
      await store.createLender({ id, name: body.name, keyHash: hashKey(apiKey), ratePerSecond: body.ratePerSecond ?? limits.lenderRatePerSecond, createdAt: nowS() });
      await store.audit('lender.created', 'admin', id);
      return c.json({ lenderId: id, apiKey }, 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/retention',
      security: [{ adminToken: [] }],
      request: { body: { ...json(z.strictObject({})), required: true } },
      responses: { 200: ok('ciphertexts past retention deleted'), ...errors },
    }),
    async (c) => {
      const deleted = await applyRetention();
      return c.json({ deleted }, 200);
    },
  );

  async function applyRetention(): Promise<number> {
    const now = nowS();
    const n = await store.deleteCiphertexts(now - limits.retentionSeconds, now);
    if (n > 0) {
      statementCache.clear();
      await store.audit('retention.deleted', 'system', String(n));
    }
    return n;
  }

  // ---------------------------------------------------------------- docs and metrics
  app.openAPIRegistry.registerComponent('securitySchemes', 'lenderKey', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'Props scoring service', version: '0.1.0' } });
  app.get('/docs', (c) => {
    const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'Props scoring service', version: '0.1.0' } });
    const rows = Object.entries(doc.paths ?? {})
      .flatMap(([p, item]) => Object.keys(item ?? {}).map((m) => `<tr><td>${m.toUpperCase()}</td><td><code>${p}</code></td></tr>`))
      .join('');
    return c.html(`<!doctype html><title>Props API</title><h1>Props scoring service</h1><p>OpenAPI: <a href="/openapi.json">/openapi.json</a></p><table>${rows}</table>`);
  });
  app.get('/metrics', (c) => {
    const lines = [
      '# TYPE props_log_size gauge',
      `props_log_size ${log.size()}`,
      ...[...metrics].map(([k, v]) => `${k} ${v}`),
    ];
    return c.text(`${lines.join('\n')}\n`, 200, { 'content-type': 'text/plain; version=0.0.4' });
  });

  return Object.assign({ app, runner }, { applyRetention });
}
