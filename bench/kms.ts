// Instance join with fleet keys: from a fresh boot to serving — the KMS checked (its evidence verified), this boot's
// evidence made, the release asked for and opened, the service assembled — side by side with a boot that keeps its
// own keys (no KMS), in one run, over loopback HTTP to a `props kms` served in this process. With the shared fixtures,
// also the cost a real TDX quote adds at the KMS (its verification with collateral cached).
// `npx tsx bench/kms.ts [--joins N] [--json]`
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import {
  bootEnclave,
  computeCodeHash,
  createSimPlatform,
  DEFAULT_MODEL_PATH,
  loadModel,
  loadPipelinePolicy,
  pipelinePolicyHash,
  REPO_ROOT,
  systemRandom,
} from '../enclave/index.ts';
import { createKmsApp } from '../enclave/kms/app.ts';
import { connectKms } from '../enclave/kms/client.ts';
import { bootKmsIdentity } from '../enclave/kms/identity.ts';
import { dataKeyPair, generateFleetSecrets } from '../enclave/kms/secrets.ts';
import { createKms } from '../enclave/kms/service.ts';
import { createService } from '../enclave/service.ts';
import { openSqliteStore } from '../enclave/store/index.ts';
import { appIdOf, pipelineId } from '../protocol/index.ts';
import { loadDefaultPolicy } from '../verifier/index.ts';
import { DcapVerifier } from '../verifier/platforms/dcap/verify.ts';
import { fixturesDir } from '../verifier/platforms/fixtures.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: { joins: { type: 'string', default: '60' }, json: { type: 'boolean' } },
});
const JOINS = Number(values.joins);
const WARMUP = 5;

const policy = { evidence: loadDefaultPolicy(), allowSimulated: true };
const pipelinePolicy = loadPipelinePolicy();
const codeHash = computeCodeHash(REPO_ROOT).codeHash;
const model = await loadModel({
  path: DEFAULT_MODEL_PATH,
  expectedHash: pipelinePolicy.modelHash,
  executionProvider: 'cpu',
});
const app = appIdOf('props-credit');
const shipped = pipelineId({
  codeHash,
  modelHash: pipelinePolicy.modelHash,
  policyHash: pipelinePolicyHash(pipelinePolicy),
  platform: 'sim',
});

// The KMS, served on loopback.
const secrets = generateFleetSecrets(systemRandom);
const identity = await bootKmsIdentity({
  platform: await createSimPlatform({ random: systemRandom }),
  random: systemRandom,
  codeHash,
  policy,
  dataKey: (await dataKeyPair(secrets)).publicJwk,
});
const kms = createKms({
  identity,
  app,
  policy,
  secrets,
  approvals: async (_app, pid) => pid === shipped,
  clock: () => new Date(),
  random: systemRandom,
});
const server = serve({ fetch: createKmsApp(kms).fetch, port: 0, hostname: '127.0.0.1' });
await new Promise<void>((r) => server.once('listening', () => r()));
const port = (server.address() as { port: number }).port;
const url = `http://127.0.0.1:${port}`;

const stubs = {
  scorer: async () => {
    throw new Error('not scoring in this bench');
  },
  ingest: async () => {
    throw new Error('not ingesting in this bench');
  },
  verifyConsent: async () => {
    throw new Error('not in this bench');
  },
};

/** One boot to serving; `withKms` asks the KMS for the fleet keys. Returns ms for its phases. */
async function boot(withKms: boolean): Promise<{ total: number; connect: number; release: number }> {
  const t0 = performance.now();
  const platform = await createSimPlatform({ random: systemRandom });
  const conn = withKms ? await connectKms({ urls: [url], app, codeHash, policy, clock: () => new Date() }) : undefined;
  const t1 = performance.now();
  let nullifierKey: Uint8Array | undefined;
  const enclave = await bootEnclave({
    platform,
    model,
    pipelinePolicy,
    codeHash,
    ...(conn ? { fleet: conn.fleetBoot((s) => void (nullifierKey = s.nullifierKey)) } : {}),
  });
  const t2 = performance.now();
  const store = openSqliteStore(':memory:');
  const svc = await createService({
    enclave,
    store,
    adminToken: 'bench-admin-token',
    ...(nullifierKey ? { nullifierKey } : {}),
    ...(stubs as unknown as Pick<Parameters<typeof createService>[0], 'scorer' | 'ingest' | 'verifyConsent'>),
    logger: () => {},
  });
  const t3 = performance.now();
  svc.runner.stop();
  await store.close();
  return { total: t3 - t0, connect: t1 - t0, release: t2 - t1 };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};

type Case = { name: string; p50: number; p90: number; connectP50: number; bootP50: number };
const cases: Case[] = [];
const samples = { kms: [] as Awaited<ReturnType<typeof boot>>[], own: [] as Awaited<ReturnType<typeof boot>>[] };
for (let i = 0; i < WARMUP; i++) {
  await boot(true);
  await boot(false);
}
// Alternating, so drift in the machine's speed falls on both alike.
for (let i = 0; i < JOINS; i++) {
  samples.kms.push(await boot(true));
  samples.own.push(await boot(false));
}
for (const [name, xs] of [
  ['join with fleet keys (KMS verified, evidence, release, service)', samples.kms],
  ['boot with its own keys (evidence, service)', samples.own],
] as const)
  cases.push({
    name,
    p50: pct(
      xs.map((x) => x.total),
      50,
    ),
    p90: pct(
      xs.map((x) => x.total),
      90,
    ),
    connectP50: pct(
      xs.map((x) => x.connect),
      50,
    ),
    bootP50: pct(
      xs.map((x) => x.release),
      50,
    ),
  });

// A real TDX quote at the KMS: its verification with the collateral cached (what the KMS adds per release).
let tdxMs: number | undefined;
const fix = fixturesDir();
if (fix) {
  const dir = join(fix, 'attestation', 'intel-dcap-qvl-samples');
  const q = new Uint8Array(readFileSync(join(dir, 'tdx_quote')));
  const col = JSON.parse(readFileSync(join(dir, 'tdx_quote_collateral.json'), 'utf8')) as unknown;
  const now = new Date('2025-07-04T10:24:15Z');
  const v = new DcapVerifier();
  await v.verify(q, col, now);
  const n = 200;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await v.verify(q, col, now);
  tdxMs = (performance.now() - t0) / n;
}
server.close();

const [withKms, own] = cases as [Case, Case];
const goals = { joinP50: withKms.p50 <= 50, tdxAdded: tdxMs === undefined ? null : tdxMs <= 2 };
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ bench: 'kms', joins: JOINS, cases, tdxVerifyMs: tdxMs, goalsMet: goals })}\n`,
  );
} else {
  const w = (s: string) => process.stdout.write(s);
  w(`\nInstance join with fleet keys (${JOINS} joins each, alternating, sim evidence, KMS on loopback HTTP)\n`);
  w(
    `${'case'.padEnd(66)}${'p50 ms'.padStart(9)}${'p90 ms'.padStart(9)}${'KMS check'.padStart(11)}${'boot'.padStart(8)}\n`,
  );
  for (const c of cases)
    w(
      `${c.name.padEnd(66)}${c.p50.toFixed(1).padStart(9)}${c.p90.toFixed(1).padStart(9)}${c.connectP50.toFixed(1).padStart(11)}${c.bootP50.toFixed(1).padStart(8)}\n`,
    );
  w(`added by the KMS: ${(withKms.p50 - own.p50).toFixed(1)} ms at p50 (×${(withKms.p50 / own.p50).toFixed(2)})\n`);
  w(
    tdxMs === undefined
      ? 'a real TDX quote at the KMS: fixtures not found (PROPS_FIXTURES), not measured\n'
      : `a real TDX quote verified at the KMS (collateral cached): ${tdxMs.toFixed(2)} ms added per release\n`,
  );
  w(
    `goal, join p50 ≤ 50 ms: ${goals.joinP50 ? 'met' : 'NOT met'}; goal, TDX verify added ≤ 2 ms: ${goals.tdxAdded === null ? 'n/a' : goals.tdxAdded ? 'met' : 'NOT met'}\n`,
  );
}
process.exit(0);
