// WAL checkpoints off the event loop. A checkpoint copies the WAL's pages into the database file and syncs both; run
// by the committing connection (SQLite's auto-checkpoint) it stalls every request behind it. Instead the store turns
// auto-checkpoints off and a worker thread with its own connection runs PASSIVE checkpoints: they never block the
// writer, and a writer restarts the WAL from its start once a checkpoint has caught up. Durability is unchanged: a
// transaction is durable once in the WAL (WAL + synchronous=NORMAL), checkpointed or not.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain CommonJS evaluated in the worker (no TypeScript loader there): one connection, one checkpoint per tick.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
let stopped = false;
const tick = () => {
  if (stopped) return;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  timer = setTimeout(tick, workerData.intervalMs);
};
let timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', () => {
  stopped = true;
  clearTimeout(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

export type Checkpointer = { stop(): void };

// Every 25 ms: each checkpoint syncs what it copied, and on ext4 a writer's WAL appends wait while that sync runs,
// so small frequent checkpoints make short stalls (BENCHMARKS.md, service: p99 29–31 ms at 10–25 ms against
// 32–36 ms at 100 ms, in 3-round runs of bench/service.ts). An idle tick costs one no-op pragma.
export function startCheckpointer(file: string, intervalMs = 25): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
  worker.unref();
  worker.on('error', () => {}); // a failed checkpointer leaves checkpoints to SQLite at close and the next open
  return {
    stop() {
      worker.postMessage('stop');
    },
  };
}
