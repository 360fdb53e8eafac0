// What the store benches (bench/store.ts, bench/wal-pages.ts) write for a scored job's result, sized as the
// service's are: a batched result is stored without its batch's signed head, which is stored once for the batch.
import { randomBytes } from 'node:crypto';

const hex = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;

/** A batched result as stored (statement and inclusion path): 1,394 bytes; the enclave's are 1.2–1.35 kB for batches of 16–64. */
export const STORED_BATCHED_RESULT = JSON.stringify({
  version: 1,
  kind: 'props-batched-result',
  body: { pad: 'x'.repeat(900) },
  index: 3,
  path: Array.from({ length: 6 }, () => hex(32)),
});

/** A batch's signed head, distinct each call: 761 bytes, as the enclave's are (one per completion group in the benches, as the service signs a group). */
export const batchHead = (): string => `${'h'.repeat(745)}${randomBytes(8).toString('hex')}`;
