// The per-lender rate limit of the shared store, drawn in groups like acceptance: one call of props_take_requests
// per event-loop turn, one row per (lender, time), each waiter granted or refused in the order it asked.
import type { Store } from '../types.ts';
import type { PgContext } from './context.ts';
import { Q } from './statements.ts';

type Waiter = { resolve: (ok: boolean) => void; reject: (e: unknown) => void };
type Draw = { lenderId: string; rate: number; now: number; waiters: Waiter[] };

/** One call for every draw of the turn, in a fixed order (lender, then time). */
async function drawCall({ run, retrying, fail }: PgContext, pending: Map<string, Draw>): Promise<void> {
  const draws = [...pending.values()].sort((a, b) =>
    a.lenderId < b.lenderId ? -1 : a.lenderId > b.lenderId ? 1 : a.now - b.now,
  );
  let rows: Array<{ lender: string; granted: number }>;
  try {
    const input = draws.map((d) => ({ lender: d.lenderId, rate: d.rate, asks: d.waiters.length, now: d.now }));
    rows = await retrying(() => run<{ lender: string; granted: number }>(Q.takeRequests, [JSON.stringify(input)]));
  } catch (e) {
    for (const d of draws) for (const w of d.waiters) w.reject(fail(e));
    return;
  }
  draws.forEach((d, i) => {
    const granted = rows[i]?.granted ?? 0;
    d.waiters.forEach((w, k) => w.resolve(k < granted));
  });
}

export function pgRateLimit(ctx: PgContext): Pick<Store, 'takeRequest'> {
  let pendingDraws = new Map<string, Draw>();
  const flushDraws = () => {
    const pending = pendingDraws;
    pendingDraws = new Map();
    return drawCall(ctx, pending);
  };
  return {
    takeRequest(lenderId, ratePerSecond, nowMs) {
      return new Promise<boolean>((resolve, reject) => {
        if (pendingDraws.size === 0) setImmediate(() => ctx.track(flushDraws()));
        const key = `${lenderId}\u0000${nowMs}`;
        let draw = pendingDraws.get(key);
        if (!draw) pendingDraws.set(key, (draw = { lenderId, rate: ratePerSecond, now: nowMs, waiters: [] }));
        draw.rate = ratePerSecond;
        draw.waiters.push({ resolve, reject });
      });
    },
  };
}
