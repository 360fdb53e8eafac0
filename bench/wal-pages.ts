// Which B-trees the store writes per commit: after a warm-up, each measured cycle empties the WAL (TRUNCATE
// checkpoint), runs one acceptance group of G jobs, reads the WAL's frame headers (one 4 kB page each), then does the
// same for the group's completion, and names each page's B-tree through SQLite's dbstat table. Pages are what a
// commit sends toward the disk (and the checkpointer again), so this is the store's write volume per job.
// `npx tsx bench/wal-pages.ts [--group G] [--cycles N] [--keys random|sequential] [--request-ids time|random]
// [--json]`: lenders' nonces and idempotency keys random (as clients make them) or counters; job ids time-prefixed and
// request ids time-prefixed too unless `--request-ids random`, as the service made them before a6e09a4.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
    group: { type: 'string', default: '10' },
    cycles: { type: 'string', default: '5' },
    keys: { type: 'string', default: 'random' },
    /** Request ids: `time` (time-prefixed, as the service makes them since a6e09a4) or `random` (as before). */
    'request-ids': { type: 'string', default: 'time' },
    json: { type: 'boolean' },
  },
});
const G = Number(values.group);
const CYCLES = Number(values.cycles);
if (![G, CYCLES].every((n) => Number.isInteger(n) && n > 0))
  throw new Error('--group and --cycles take positive integers');
if (values.keys !== 'random' && values.keys !== 'sequential') throw new Error('--keys must be random or sequential');
const sequential = values.keys === 'sequential';
if (values['request-ids'] !== 'time' && values['request-ids'] !== 'random')
  throw new Error('--request-ids must be time or random');
const randomRequestIds = values['request-ids'] === 'random';

const NOW = 1_800_000_000;
const WARMUP_JOBS = 5_000;
const PAGE = 4096;
const FRAME = 24 + PAGE;
const hex = (b: Uint8Array | Buffer) => `0x${Buffer.from(b).toString('hex')}`;
const hex64 = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
// Time-prefixed like the service's ids (48-bit "milliseconds", then random bytes); the sequence stands in for time.
const timePrefixed = (i: number, bytes: number) =>
  `0x${i.toString(16).padStart(12, '0')}${randomBytes(bytes - 6).toString('hex')}`;

const dir = mkdtempSync(join(tmpdir(), 'props-wal-pages-'));
const file = join(dir, 'props.db');
const store = openSqliteStore(file);
await store.createLender({ id: 'lender-1', name: 'bench', keyHash: 'key-hash', ratePerSecond: 10, createdAt: NOW });
const CONSENTS = Math.ceil((WARMUP_JOBS + CYCLES * G) / 1000);
for (let c = 0; c < CONSENTS; c++) {
  await store.insertSubmission({
    id: `sub-${c}`,
    ciphertext: 'c'.repeat(20_000),
    inputCommitment: hex(randomBytes(32)),
    nullifier: hex(randomBytes(32)),
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
const accept = () =>
  Promise.all(
    Array.from({ length: G }, () => {
      const i = ++seq;
      const c = Math.floor((i - 1) / 1000);
      const job = {
        id: timePrefixed(i, 16),
        lenderId: 'lender-1',
        idempotencyKey: sequential ? `bench-${i.toString().padStart(10, '0')}` : randomUUID(),
        requestHash: hex(randomBytes(32)),
        consentId: hex64(c + 1),
        submissionId: `sub-${c}`,
        requestId: randomRequestIds ? hex(randomBytes(32)) : timePrefixed(i, 32),
        nonce: sequential ? hex64(i) : hex(randomBytes(32)),
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
      return store.acceptJob({ job, now: NOW, borrowerCap: 1e9, borrowerWindowSeconds: 86_400 });
    }),
  );
const complete = (accepted: Array<{ job: { id: string } }>) => {
  const head = batchHead();
  return store.completeJobs(
    LOG_ID,
    accepted.map((a) => ({
      jobId: a.job.id,
      attestation: STORED_BATCHED_RESULT,
      structHash: hex(randomBytes(32)),
      head,
    })),
    NOW,
  );
};

for (let n = 0; n < WARMUP_JOBS; n += G) await complete(await accept());

// Read right after the commit, so dbstat (read through the same connection) names the pages it just wrote.
const walPages = (): Map<string, number> => {
  const treeOf = new Map(
    (store.sqlite.prepare('SELECT name, pageno FROM dbstat').all() as Array<{ name: string; pageno: number }>).map(
      (r) => [r.pageno, r.name],
    ),
  );
  const wal = readFileSync(`${file}-wal`);
  const counts = new Map<string, number>();
  // Frames of this WAL generation carry the header's salts; a reused WAL file may hold older frames after them.
  const salt = wal.length >= 32 ? wal.subarray(16, 24) : Buffer.alloc(8);
  for (let off = 32; off + FRAME <= wal.length; off += FRAME) {
    const page = wal.readUInt32BE(off);
    if (page === 0 || !wal.subarray(off + 8, off + 16).equals(salt)) break;
    const name = treeOf.get(page) ?? '(free page)';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
};
const totals = { accept: new Map<string, number>(), complete: new Map<string, number>() };
const add = (into: Map<string, number>, from: Map<string, number>) =>
  from.forEach((v, k) => into.set(k, (into.get(k) ?? 0) + v));
// Empties the WAL; the store's checkpointer thread may hold it for a moment, so retry until it is empty.
const emptyWal = async () => {
  for (let tries = 0; tries < 200; tries++) {
    const [r] = store.sqlite.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number }>;
    if (r && r.busy === 0 && r.log === 0) return;
    await new Promise((done) => setTimeout(done, 5));
  }
  throw new Error('could not empty the WAL');
};
for (let k = 0; k < CYCLES; k++) {
  await emptyWal();
  const accepted = await accept();
  add(totals.accept, walPages());
  await emptyWal();
  await complete(accepted);
  add(totals.complete, walPages());
}
await store.close();
rmSync(dir, { recursive: true, force: true });

const perCycle = (m: Map<string, number>) =>
  Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / CYCLES]));
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) / CYCLES;
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ bench: 'wal-pages', group: G, cycles: CYCLES, keys: values.keys, requestIds: values['request-ids'], accept: perCycle(totals.accept), complete: perCycle(totals.complete) })}\n`,
  );
} else {
  process.stdout.write(
    `\nWAL pages per commit, groups of ${G} jobs, mean of ${CYCLES} cycles, --keys ${values.keys}, --request-ids ${values['request-ids']}\n`,
  );
  for (const [phase, m] of Object.entries(totals)) {
    process.stdout.write(
      `${phase}: ${sum(m).toFixed(1)} pages (${((sum(m) * PAGE) / G / 1024).toFixed(1)} kB a job)\n`,
    );
    for (const [name, v] of Object.entries(perCycle(m)))
      process.stdout.write(`  ${name.padEnd(34)}${v.toFixed(1).padStart(6)}\n`);
  }
}
