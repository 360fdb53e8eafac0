// The scoring service as the simulation runs it: inside the enclave boundary, SQLite (WAL) store, the ONNX scorer,
// the oracle's submission and consent formats with provenance checked against a pinned policy; HTTP on loopback.
import { rmSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { toHex, type Hex } from '../protocol/index.ts';
import { systemRandom, type CreditModel, type Enclave } from '../enclave/index.ts';
import { createService } from '../enclave/service.ts';
import { openSqliteStore } from '../enclave/store/index.ts';
import { oracleBoundary } from '../enclave/api/oracle-adapters.ts';
import { modelScorer } from '../enclave/api/model-scorer.ts';
import type { Limits } from '../enclave/api/index.ts';
import { provenanceVerifier, type ProvenancePolicy } from '../verifier/index.ts';

export type RunningService = {
  url: string;
  adminToken: string;
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: Record<string, unknown> }>;
  createLender(name: string): Promise<{ lenderId: string; apiKey: string }>;
  logSize(): Promise<number>;
  close(): Promise<void>;
};

export async function startScoringService(o: {
  enclave: Enclave;
  model: CreditModel;
  provenancePolicy: ProvenancePolicy;
  dbPath: string;
  fresh?: boolean;
  limits?: Partial<Limits>;
  anchor?: () => Promise<{ treeSize: number; root: Hex } | undefined>;
}): Promise<RunningService> {
  if (o.fresh) for (const f of [o.dbPath, `${o.dbPath}-wal`, `${o.dbPath}-shm`]) rmSync(f, { force: true });
  const store = openSqliteStore(o.dbPath);
  const adminToken = toHex(systemRandom(32));
  const boundary = oracleBoundary({
    enclave: o.enclave,
    verifyProvenance: provenanceVerifier(o.provenancePolicy, [o.enclave.evidence.keys.jws]),
    clock: () => new Date(),
  });
  let svc: Awaited<ReturnType<typeof createService>>;
  try {
    svc = await createService({
      enclave: o.enclave,
      store,
      adminToken,
      scorer: modelScorer(o.model),
      ingest: boundary.ingest,
      verifyConsent: boundary.verifyConsent,
      logger: () => {},
      limits: { lenderRatePerSecond: 10_000, ...o.limits },
      ...(o.anchor ? { anchor: o.anchor } : {}),
    });
  } catch (e) {
    store.close();
    throw e;
  }
  const server = await new Promise<{ url: string; close: () => Promise<void> }>((resolve) => {
    const srv = serve({ fetch: svc.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise((r) => {
            svc.runner.stop();
            srv.close(() => r());
            (srv as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      }),
    );
  });
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json().catch(() => ({}))) as Record<string, unknown> };
  };
  return {
    url: server.url,
    adminToken,
    post,
    async createLender(name) {
      const r = await post('/v1/admin/lenders', { name }, { authorization: `Bearer ${adminToken}` });
      return r.json as { lenderId: string; apiKey: string };
    },
    async logSize() {
      return ((await (await fetch(`${server.url}/v1/log/head`)).json()) as { treeSize: number }).treeSize;
    },
    async close() {
      await server.close();
      store.close();
    },
  };
}
