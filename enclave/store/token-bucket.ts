// A per-lender token bucket in process memory: the rate limit of a store that one process holds alone. Burst: one
// second's allowance.
export function tokenBuckets(): { take(lenderId: string, ratePerSecond: number, nowMs: number): boolean } {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(lenderId, rate, nowMs) {
      const b = buckets.get(lenderId) ?? { tokens: rate, at: nowMs };
      b.tokens = Math.min(rate, b.tokens + ((nowMs - b.at) / 1000) * rate);
      b.at = nowMs;
      buckets.set(lenderId, b);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
  };
}
