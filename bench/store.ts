// The service store alone: what one scoring job costs it (acceptance, group-committed, and completion: result, log
// leaf, job state), on a file database in WAL mode, as shipped and with SQLite's default temp_store=FILE side by side
// (rounds interleaved, a fresh database each). `npx tsx bench/store.ts [--jobs N] [--group G] [--rounds R]
// [--db-dir DIR] [--json]`. Job ids are time-ordered and request ids random, as the service makes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../enclave/store/index.ts';
import { batchHead, STORED_BATCHED_RESULT } from './stored-result.ts';

/** The one log these benches append to (an instance's on-chain key id). */
const LOG_ID = `0x${'1'.repeat(64)}`;
const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: {
    jobs: { type: 'string', default: '10000' },
    group: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    'db-dir': { type: 'string' },
    json: { type: 'boolean' },
  },
});
const JOBS = Number(values.jobs);
const GROUP = Number(values.group);
const ROUNDS = Number(values.rounds);
if (![JOBS, GROUP, ROUNDS].every((n) => Number.isInteger(n) && n > 0))
  throw new Error('--jobs, --group and --rounds take positive integers');

const NOW = 1_800_000_000;
const CONSENTS = Math.ceil(JOBS / 1000);
const hex64 = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
// Cheap seeded hex (a crypto call per id would dominate the timings).
let state = 0x9e3779b9;
const randomHex = (bytes: number) => {
  let out = '0x';
  for (let i = 0; i < bytes / 4; i++) {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    out += state.toString(16).padStart(8, '0');
  }
  return out;
};

type Variant = { name: string; pragmas: string[] };
const VARIANTS: Variant[] = [
  { name: 'as shipped (temp_store=MEMORY)', pragmas: [] },
  { name: 'temp_store=FILE (SQLite default)', pragmas: ['temp_store = FILE'] },
];
type Sample = { acceptUs: number; completeUs: number; cpuUs: number };

async function round(v: Variant): Promise<Sample> {
  const dir = mkdtempSync(join(values['db-dir'] ?? tmpdir(), 'props-store-bench-'));
  const store = openSqliteStore(join(dir, 'props.db'));
  for (const p of v.pragmas) store.sqlite.pragma(p);
  await store.createLender({ id: 'lender-1', name: 'bench', keyHash: 'key-hash', ratePerSecond: 10, createdAt: NOW });
  for (let c = 0; c < CONSENTS; c++) {
    await store.insertSubmission({
      id: `sub-${c}`,
      ciphertext: 'c'.repeat(20_000),
      inputCommitment: randomHex(32),
      nullifier: randomHex(32),
      ownerKey: 'owner',
      decryptionKey: 'bench-key',
      createdAt: NOW,
      deletedAt: null,
    });
    await store.insertConsent({
      id: hex64(c + 1),
      submissionId: `sub-${c}`,
      lenderId: 'lender-1',
      purpose: 'credit-scoring',
      expiresAt: NOW + 3600,
      maxUses: 1000,
      uses: 0,
      jws: 'a.b.c',
      createdAt: NOW,
    });
  }
  let seq = 0;
  let accept = 0;
  let complete = 0;
  const cpu0 = process.cpuUsage();
  for (let n = 0; n < JOBS; n += GROUP) {
    const jobs = Array.from({ length: Math.min(GROUP, JOBS - n) }, () => {
      const i = ++seq;
      const c = Math.floor((i - 1) / 1000);
      return {
        id: `0x${i.toString(16).padStart(12, '0')}${randomHex(10).slice(2)}`,
        lenderId: 'lender-1',
        idempotencyKey: `bench-${i}`,
        requestHash: randomHex(32),
        consentId: hex64(c + 1),
        submissionId: `sub-${c}`,
        requestId: randomHex(32),
        nonce: randomHex(32),
        escrowJobId: null,
        threshold: 600,
        state: 'accepted' as const,
        errorCode: null,
        createdAt: NOW,
        updatedAt: NOW,
        decryptionKey: 'bench-key',
        claimedBy: null,
        leaseUntil: null,
      };
    });
    const t0 = performance.now();
    const accepted = await Promise.all(
      jobs.map((job) => store.acceptJob({ job, now: NOW, borrowerCap: 1e9, borrowerWindowSeconds: 86_400 })),
    );
    const t1 = performance.now();
    const head = batchHead();
    const done = accepted.map((a) => ({
      jobId: a.job.id,
      attestation: STORED_BATCHED_RESULT,
      structHash: randomHex(32),
      head,
    }));
    const t2 = performance.now();
    await store.completeJobs(LOG_ID, done, NOW);
    complete += performance.now() - t2;
    accept += t1 - t0;
  }
  const cpu = process.cpuUsage(cpu0);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    acceptUs: (accept * 1000) / JOBS,
    completeUs: (complete * 1000) / JOBS,
    cpuUs: (cpu.user + cpu.system) / JOBS,
  };
}

const samples = VARIANTS.map(() => [] as Sample[]);
for (let r = 0; r < ROUNDS; r++) for (const [i, v] of VARIANTS.entries()) samples[i]?.push(await round(v));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rows = VARIANTS.map((v, i) => {
  const s = samples[i] as Sample[];
  const acceptUs = median(s.map((x) => x.acceptUs));
  const completeUs = median(s.map((x) => x.completeUs));
  return {
    variant: v.name,
    acceptUs,
    completeUs,
    totalUs: acceptUs + completeUs,
    cpuUs: median(s.map((x) => x.cpuUs)),
  };
});
const base = rows[0] as (typeof rows)[number];
if (values.json)
  process.stdout.write(`${JSON.stringify({ bench: 'store', jobs: JOBS, group: GROUP, rounds: ROUNDS, rows })}\n`);
else {
  process.stdout.write(
    `\nService store per scoring job (${JOBS} jobs, groups of ${GROUP}, median of ${ROUNDS} interleaved rounds, file database, WAL)\n`,
  );
  process.stdout.write(
    `${'variant'.padEnd(36)}${'accept µs'.padStart(11)}${'complete µs'.padStart(13)}${'total µs'.padStart(10)}${'CPU µs'.padStart(9)}${'ratio'.padStart(8)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.variant.padEnd(36)}${r.acceptUs.toFixed(1).padStart(11)}${r.completeUs.toFixed(1).padStart(13)}${r.totalUs.toFixed(1).padStart(10)}${r.cpuUs.toFixed(1).padStart(9)}${`${(r.totalUs / base.totalUs).toFixed(2)}×`.padStart(8)}\n`,
    );
  }
  process.stdout.write("CPU µs: all of this process's threads (the WAL checkpointer too), user + system.\n");
}
