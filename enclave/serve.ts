// `props serve [--port N] [--host H] [--db FILE] [--seal FILE] [--model FILE] [--rate N]`: boots a simulated
// enclave and serves the scoring API. Keys derive from a sim-sealed seed file so a restart (after a crash) can
// still decrypt accepted submissions and finish their jobs; on real hardware that seed is sealed by the platform.
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import type { Command } from '../cli/main.ts';
import { PropsError } from '../protocol/index.ts';
import { bootEnclave } from './boot.ts';
import { DEFAULT_MODEL_PATH } from './model/index.ts';
import { systemRandom, type Random } from './keys.ts';
import { createSimPlatform } from './platforms/sim.ts';
import { createService } from './service.ts';
import { openSqliteStore } from './store/index.ts';

const USAGE = 'usage: props serve [--port N] [--host ADDR] [--db FILE] [--seal FILE] [--model FILE] [--rate N] [--borrower-cap N] [--quiet]';
/** Until the ONNX model is wired, the placeholder scorer's own source is the hashed "model". */
const PLACEHOLDER_MODEL = fileURLToPath(new URL('./api/placeholder-scorer.ts', import.meta.url));

function seeded(seed: Uint8Array): Random {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 32) {
      const block = createHmac('sha256', seed).update(`props.seal.v1/${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - i)), i);
    }
    return out;
  };
}

export const serveCommand: Command = {
  summary: 'serve the scoring API (lender jobs, submissions, consents, transparency log) from a simulated enclave',
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        strict: true,
        options: {
          port: { type: 'string', default: '8080' },
          host: { type: 'string', default: '127.0.0.1' },
          db: { type: 'string', default: ':memory:' },
          seal: { type: 'string' },
          model: { type: 'string' },
          rate: { type: 'string' },
          'borrower-cap': { type: 'string' },
          quiet: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (e) {
      process.stderr.write(`props serve: ${(e as Error).message}\n${USAGE}\n`);
      return 2;
    }
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const port = Number(values.port);
    const rate = values.rate === undefined ? undefined : Number(values.rate);
    const cap = values['borrower-cap'] === undefined ? undefined : Number(values['borrower-cap']);
    if (!Number.isInteger(port) || port < 0 || port > 65535 || (rate !== undefined && !(rate >= 1)) || (cap !== undefined && !(cap >= 1))) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    const sealPath = values.seal ?? (values.db !== ':memory:' ? `${values.db}.seal` : undefined);
    let seed: Uint8Array;
    if (sealPath && existsSync(sealPath)) {
      seed = readFileSync(sealPath);
      if (seed.length !== 32) throw new PropsError('ERR_FILE_UNREADABLE', { detail: 'seal file: expected 32 bytes' });
    } else {
      seed = systemRandom(32);
      if (sealPath) writeFileSync(sealPath, seed, { mode: 0o600 });
    }
    const random = seeded(seed);
    const platform = await createSimPlatform({ random });
    const modelPath = values.model ?? (existsSync(DEFAULT_MODEL_PATH) ? DEFAULT_MODEL_PATH : PLACEHOLDER_MODEL);
    const enclave = await bootEnclave({ platform, random, modelPath });
    const store = openSqliteStore(values.db);
    const generated = process.env.PROPS_ADMIN_TOKEN === undefined;
    const adminToken = process.env.PROPS_ADMIN_TOKEN ?? Buffer.from(systemRandom(32)).toString('base64url');
    const quiet = values.quiet === true;
    const svc = await createService({
      enclave,
      store,
      adminToken,
      nullifierKey: createHmac('sha256', seed).update('props.nullifier-key.v1').digest(),
      limits: { ...(rate ? { lenderRatePerSecond: rate } : {}), ...(cap ? { borrowerCap: cap } : {}) },
      logger: quiet ? () => {} : (e) => process.stderr.write(`${JSON.stringify(e)}\n`),
    });
    const retention = setInterval(() => void svc.applyRetention().catch(() => {}), 60_000);
    retention.unref();
    await new Promise<void>((resolve) => {
      const server = serve({ fetch: svc.app.fetch, port, hostname: values.host }, (info) => {
        process.stdout.write(
          `${JSON.stringify({
            url: `http://${values.host}:${info.port}`,
            port: info.port,
            platform: enclave.manifest.platform,
            simulated: true,
            pipelineId: enclave.pipelineId,
            modelHash: enclave.manifest.modelHash,
            ...(generated ? { adminToken } : {}),
          })}\n`,
        );
      });
      const stop = () => {
        svc.runner.stop();
        server.close(() => {
          store.close();
          resolve();
        });
        // Keep-alive clients would hold close() open: drop idle connections now, the rest after a grace period.
        const s = server as unknown as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
        s.closeIdleConnections?.();
        setTimeout(() => s.closeAllConnections?.(), 2000).unref();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
