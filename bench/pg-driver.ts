// The two PostgreSQL drivers side by side on the store's hot shapes: postgres.js (what the store uses) and node-postgres
// (pg). Shapes: a prepared single-row SELECT of a job by primary key, and a group of job acceptances as one call of
// props_accept_jobs (the store's group commit). Each runs `--concurrency` callers in this process over a pool of
// `--pool` connections for `--seconds`, rounds interleaved (postgres.js, pg, postgres.js, …) on a fresh database
// migrated by the store, its jobs spread over `--consents` consents (each its own borrower).
// `npx tsx bench/pg-driver.ts [--url postgres://…] [--seconds S] [--rounds R] [--concurrency C] [--pool P] [--group G]
// [--consents N] [--json]`; without --url, a throwaway database on PROPS_TEST_PG_URL (or the local server) is created
// and dropped.
import { parseArgs } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';
import { openPostgresStore } from '../enclave/store/pg/store.ts';
import type { JobRow } from '../enclave/store/types.ts';
import { createTestDatabase } from '../testing/pg.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: {
    url: { type: 'string' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    pool: { type: 'string', default: '10' },
    group: { type: 'string', default: '16' },
    consents: { type: 'string', default: '1000' },
    json: { type: 'boolean' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const POOL = Number(values.pool);
const GROUP = Number(values.group);
const CONSENTS = Number(values.consents);
if (![SECONDS, ROUNDS, CONCURRENCY, POOL, GROUP, CONSENTS].every((n) => Number.isInteger(n) && n > 0)) {
  throw new Error('--seconds, --rounds, --concurrency, --pool, --group and --consents take positive integers');
}

const NOW = 1_800_000_000;
const SEEDED = 10_000;
const SELECT_JOB = `SELECT id, lender_id AS "lenderId", idempotency_key AS "idempotencyKey", request_hash AS "requestHash",
  consent_id AS "consentId", submission_id AS "submissionId", request_id AS "requestId", nonce, escrow_job_id AS "escrowJobId",
  threshold, state, error_code AS "errorCode", created_at AS "createdAt", updated_at AS "updatedAt",
  decryption_key AS "decryptionKey", claimed_by AS "claimedBy", lease_until AS "leaseUntil" FROM jobs WHERE id = $1`;
const ACCEPT = 'SELECT o_code AS code, o_created AS created, o_job AS job FROM props_accept_jobs($1::text::jsonb)';

const hex = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
let serial = 0;
/** A group of new acceptances (unique ids, keys and nonces) as props_accept_jobs reads them. */
const acceptGroup = () =>
  JSON.stringify(
    Array.from({ length: GROUP }, () => {
      const i = ++serial;
      return {
        id: `b-${i}`,
        lender_id: 'lender-1',
        idempotency_key: `bi-${i}`,
        request_hash: hex(i),
        consent_id: `consent-${i % CONSENTS}`,
        submission_id: `sub-${i % CONSENTS}`,
        request_id: `br-${i}`,
        nonce: `bn-${i}`,
        escrow_job_id: null,
        threshold: 600,
        state: 'accepted',
        error_code: null,
        created_at: NOW,
        updated_at: NOW,
        decryption_key: 'dk-1',
        claimed_by: null,
        lease_until: null,
        now: NOW,
        cap: 1e9,
        window: 86_400,
      };
    }),
  );

type Driver = {
  name: string;
  selectJob(id: string): Promise<unknown>;
  accept(group: string): Promise<unknown>;
  end(): Promise<void>;
};

const postgresJs = (url: string): Driver => {
  const sql = postgres(url, {
    max: POOL,
    onnotice: () => {},
    fetch_types: false,
    types: { int8: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) } },
  });
  return {
    name: 'postgres.js',
    selectJob: (id) => sql.unsafe(SELECT_JOB, [id], { prepare: true }),
    accept: (group) => sql.unsafe(ACCEPT, [group], { prepare: true }),
    end: () => sql.end({ timeout: 5 }),
  };
};

const nodePostgres = (url: string): Driver => {
  const types = {
    getTypeParser: ((oid: number, format?: string) =>
      oid === 20 ? Number : pg.types.getTypeParser(oid, format as never)) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ connectionString: url, max: POOL, types });
  return {
    name: 'pg',
    selectJob: (id) => pool.query({ name: 'select_job', text: SELECT_JOB, values: [id] }),
    accept: (group) => pool.query({ name: 'accept_jobs', text: ACCEPT, values: [group] }),
    end: () => pool.end(),
  };
};

/**
 * Calls per second of `op` with CONCURRENCY callers for SECONDS, and this process's CPU time per call (µs): on a
 * small machine the driver's CPU is taken from the database server beside it.
 */
async function measure(op: () => Promise<unknown>): Promise<{ rate: number; cpuUs: number }> {
  const until = performance.now() + SECONDS * 1000;
  let calls = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await op();
        calls++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { rate: calls / ((performance.now() - start) / 1000), cpuUs: (used.user + used.system) / calls };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

const temp = values.url ? undefined : await createTestDatabase();
const url = values.url ?? (temp as { url: string }).url;
try {
  const store = await openPostgresStore(url, { max: 2 });
  await store.createLender({ id: 'lender-1', name: 'L', keyHash: 'kh-1', ratePerSecond: 1e6, createdAt: NOW });
  for (let c = 0; c < CONSENTS; c++) {
    await store.insertSubmission({
      id: `sub-${c}`,
      ciphertext: 'c',
      inputCommitment: hex(c),
      nullifier: hex(c),
      ownerKey: 'o',
      decryptionKey: 'dk-1',
      createdAt: NOW,
      deletedAt: null,
    });
    await store.insertConsent({
      id: `consent-${c}`,
      submissionId: `sub-${c}`,
      lenderId: 'lender-1',
      purpose: 'p',
      expiresAt: NOW + 3600,
      maxUses: 2 ** 31 - 1,
      uses: 0,
      jws: 'a.b.c',
      createdAt: NOW,
    });
  }
  const seeded = (i: number): JobRow => ({
    id: `job-${i}`,
    lenderId: 'lender-1',
    idempotencyKey: `idem-${i}`,
    requestHash: hex(i),
    consentId: `consent-${i % CONSENTS}`,
    submissionId: `sub-${i % CONSENTS}`,
    requestId: `req-${i}`,
    nonce: `nonce-${i}`,
    escrowJobId: null,
    threshold: 600,
    state: 'accepted',
    errorCode: null,
    createdAt: NOW,
    updatedAt: NOW,
    decryptionKey: 'dk-1',
    claimedBy: null,
    leaseUntil: null,
  });
  for (let i = 0; i < SEEDED; i += 500) {
    await Promise.all(
      Array.from({ length: 500 }, (_, k) =>
        store.acceptJob({ job: seeded(i + k), now: NOW, borrowerCap: 1e9, borrowerWindowSeconds: 86_400 }),
      ),
    );
  }
  await store.close();

  const drivers = [postgresJs(url), nodePostgres(url)];
  const randomJob = () => `job-${Math.floor(Math.random() * SEEDED)}`;
  const shapes = [
    { name: 'SELECT job by primary key (prepared)', run: (d: Driver) => () => d.selectJob(randomJob()) },
    { name: `props_accept_jobs, ${GROUP} jobs a call`, run: (d: Driver) => () => d.accept(acceptGroup()) },
  ];
  const results = new Map<string, Array<{ rate: number; cpuUs: number }>>();
  for (const shape of shapes) {
    for (const d of drivers)
      await measure(shape.run(d)).then(
        () => {},
        () => {},
      ); // warm: connections, statements
    for (let r = 0; r < ROUNDS; r++) {
      for (const d of drivers) {
        const key = `${shape.name}\u0000${d.name}`;
        results.set(key, [...(results.get(key) ?? []), await measure(shape.run(d))]);
      }
    }
  }
  await Promise.all(drivers.map((d) => d.end()));

  const rows = shapes.map((s) => {
    const [a, b] = drivers.map((d) => results.get(`${s.name}\u0000${d.name}`) ?? []);
    const rate = (xs = a) => median((xs ?? []).map((x) => x.rate));
    const cpu = (xs = a) => median((xs ?? []).map((x) => x.cpuUs));
    return {
      shape: s.name,
      postgresJs: rate(a),
      pg: rate(b),
      ratio: rate(a) / (rate(b) || 1),
      cpuUs: { postgresJs: cpu(a), pg: cpu(b) },
      rounds: { postgresJs: (a ?? []).map((x) => x.rate), pg: (b ?? []).map((x) => x.rate) },
    };
  });
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ seconds: SECONDS, rounds: ROUNDS, concurrency: CONCURRENCY, pool: POOL, group: GROUP, rows })}\n`,
    );
  } else {
    process.stdout.write(
      `\nPostgreSQL drivers, calls/s and client CPU (median of ${ROUNDS} interleaved rounds of ${SECONDS} s; ${CONCURRENCY} callers, pool of ${POOL}, ${CONSENTS} consents)\n`,
    );
    process.stdout.write(
      `${'shape'.padEnd(40)}${'postgres.js'.padStart(13)}${'pg'.padStart(9)}${'ratio'.padStart(8)}${'client CPU µs/call'.padStart(22)}   rounds (postgres.js | pg)\n`,
    );
    for (const r of rows) {
      const cells = `${r.postgresJs.toFixed(0).padStart(13)}${r.pg.toFixed(0).padStart(9)}${`${r.ratio.toFixed(2)}×`.padStart(8)}`;
      const cpu = `${r.cpuUs.postgresJs.toFixed(0)} | ${r.cpuUs.pg.toFixed(0)}`.padStart(22);
      process.stdout.write(
        `${r.shape.padEnd(40)}${cells}${cpu}   ${spread(r.rounds.postgresJs)} | ${spread(r.rounds.pg)}\n`,
      );
    }
  }
} finally {
  await temp?.drop();
}
