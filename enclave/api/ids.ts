// Job ids and request ids. Per-request random bytes are drawn from the source a block at a time (one CSPRNG call per
// 4 KiB, each byte handed out once) rather than one call per identifier. Ids start with a 48-bit millisecond time
// prefix, then random bits (80 for a job id, 208 for a request id, which results carry as their bytes32): the store's
// indexes keyed by them then grow at their end instead of taking a random page each (`npx tsx bench/wal-pages.ts
// --request-ids random|time`). The ids stay unguessable.
import { toHex, type Hex } from '../../protocol/index.ts';

export type Ids = { timePrefixed(bytes: 16 | 32): Hex };

export function idSource(random: (n: number) => Uint8Array, clock: () => Date): Ids {
  let pool: Uint8Array = new Uint8Array(0);
  let poolAt = 0;
  const randomBytes = (n: number): Uint8Array => {
    if (poolAt + n > pool.length) {
      pool = random(4096);
      poolAt = 0;
    }
    const out = pool.slice(poolAt, poolAt + n);
    pool.fill(0, poolAt, poolAt + n);
    poolAt += n;
    return out;
  };
  return {
    timePrefixed(bytes) {
      const id = new Uint8Array(bytes);
      let ms = Math.max(0, Math.floor(clock().getTime()));
      for (let i = 5; i >= 0; i--) {
        id[i] = ms % 256;
        ms = Math.floor(ms / 256);
      }
      id.set(randomBytes(bytes - 6), 6);
      return toHex(id);
    },
  };
}
