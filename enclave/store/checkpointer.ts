// WAL checkpoints off the event loop. A checkpoint copies the WAL's pages into the database file and syncs both; run
// by the committing connection (SQLite's auto-checkpoint) it stalls every request behind it. Instead the store turns
// auto-checkpoints off and a worker thread with its own connection runs PASSIVE checkpoints: they never block the
// writer, and a writer restarts the WAL from its start once a checkpoint has caught up. Durability is unchanged: a
// transaction is durable once in the WAL (WAL + synchronous=NORMAL), checkpointed or not.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain CommonJS evaluated in the worker (no TypeScript loader there): one connection, one checkpoint per tick. A
// failure is posted as its stage and code only (never the message, which can name the file); the worker exits once
// its connection is closed, which is what stop() waits for.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const codeOf = (e) => {
  const c = e && typeof e.code === 'string' ? e.code : e && typeof e.name === 'string' ? e.name : '';
  return /^[A-Za-z0-9_]{1,64}$/.test(c) ? c : 'UNKNOWN';
};
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
let stopped = false;
const tick = () => {
  if (stopped) return;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { parentPort.postMessage({ stage: 'checkpoint', code: codeOf(e) }); }
  timer = setTimeout(tick, workerData.intervalMs);
};
let timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', () => {
  stopped = true;
  clearTimeout(timer);
  try { db.close(); } catch (e) { parentPort.postMessage({ stage: 'close', code: codeOf(e) }); }
  parentPort.close();
});
`;

/** One failure of the worker, without data: where it failed, the SQLite (or JavaScript) error code, the count so far. */
export type CheckpointerFailure = {
  event: 'store.checkpoint_failed';
  stage: 'start' | 'checkpoint' | 'close';
  code: string;
  failures: number;
};
export type CheckpointerLogger = (event: CheckpointerFailure) => void;

export type Checkpointer = {
  /** Stops the worker and resolves once it has exited, its connection closed: no write of its follows. */
  stop(): Promise<void>;
  /** Failures since start. A failed checkpoint leaves the WAL to the writer's auto-checkpoint backstop. */
  readonly failures: number;
};

export type CheckpointerOptions = { intervalMs?: number; logger?: CheckpointerLogger };

const defaultLogger: CheckpointerLogger = (e) => process.stderr.write(`${JSON.stringify(e)}\n`);

const codeOf = (m: unknown): string => {
  const c = (m as { code?: unknown } | null)?.code ?? (m as { name?: unknown } | null)?.name;
  return typeof c === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(c) ? c : 'UNKNOWN';
};

// Every 25 ms: each checkpoint syncs what it copied, and on ext4 a writer's WAL appends wait while that sync runs,
// so small frequent checkpoints make short stalls (BENCHMARKS.md). An idle tick costs one no-op pragma.
export function startCheckpointer(file: string, opts: CheckpointerOptions = {}): Checkpointer {
  const logger = opts.logger ?? defaultLogger;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, driver, intervalMs: opts.intervalMs ?? 25 },
  });
  worker.unref();
  let failures = 0;
  // A failure that repeats every tick is counted each time but logged at the 1st, 2nd, 4th, 8th, … occurrence.
  const fail = (stage: CheckpointerFailure['stage'], code: string) => {
    failures++;
    if ((failures & (failures - 1)) === 0) logger({ event: 'store.checkpoint_failed', stage, code, failures });
  };
  worker.on('message', (m: unknown) => {
    const stage = (m as { stage?: unknown } | null)?.stage;
    fail(stage === 'close' ? 'close' : 'checkpoint', codeOf(m));
  });
  // An uncaught error (the connection did not open) ends the worker: checkpoints are left to the writer's backstop.
  worker.on('error', (e) => fail('start', codeOf(e)));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      if (!stopping) {
        // Held referenced until it exits, so a process ending right after close does not cut its connection short.
        worker.ref();
        worker.postMessage('stop');
        stopping = exited;
      }
      return stopping;
    },
    get failures() {
      return failures;
    },
  };
}
