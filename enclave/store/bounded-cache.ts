// The stores' per-process caches of immutable rows, kept bounded: past the bound one starts over (a miss only costs
// one read).
const CACHE_MAX = 65_536;

export const cacheSet = <V>(m: Map<string, V>, k: string, v: V): void => {
  if (m.size >= CACHE_MAX) m.clear();
  m.set(k, v);
};
