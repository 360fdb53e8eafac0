// Seeded pseudo-random numbers for the simulation: the same (seed, stream) always yields the same sequence,
// on every machine, so synthetic borrowers, training sets and benchmark weights are reproducible. Not for secrets.
import { sha256 } from '@noble/hashes/sha2.js';

export type Rng = {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(lo: number, hi: number): number;
  /** Integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number;
  bernoulli(p: number): boolean;
  /** Standard normal (Box–Muller). */
  normal(): number;
  pick<T>(items: readonly T[]): T;
};

/**
 * sfc32 seeded from SHA-256 of the stream label: a small, well-studied generator whose state is fully
 * determined by the label, so every (seed, index) pair is an independent, addressable stream.
 */
export function createRng(label: string): Rng {
  const h = sha256(new TextEncoder().encode(label));
  const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
  let a = view.getUint32(0, true);
  let b = view.getUint32(4, true);
  let c = view.getUint32(8, true);
  let d = view.getUint32(12, true) | 1;
  const u32 = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32(); // discard the first outputs, as sfc32's author recommends
  const next = (): number => u32() / 4294967296;
  let spare: number | undefined;
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    bernoulli: (p) => next() < p,
    normal: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = next();
      while (u <= Number.EPSILON) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick: empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
  };
}
