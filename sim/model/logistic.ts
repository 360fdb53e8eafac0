// L2-regularised logistic regression fitted by Newton's method (IRLS), plus the held-out metrics the model card
// reports. Plain loops in a fixed order, no randomness: the same data always gives bit-identical weights.

export type Standardization = { mean: number[]; std: number[] };
export type LogisticModel = { weights: number[]; intercept: number };

export function fitStandardization(X: readonly (readonly number[])[]): Standardization {
  const n = X.length;
  const f = X[0]?.length ?? 0;
  const mean = new Array<number>(f).fill(0);
  const std = new Array<number>(f).fill(0);
  for (const row of X) for (let j = 0; j < f; j++) mean[j]! += row[j]!;
  for (let j = 0; j < f; j++) mean[j]! /= n;
  for (const row of X) for (let j = 0; j < f; j++) std[j]! += (row[j]! - mean[j]!) ** 2;
  // A constant feature keeps std 1 so it standardizes to 0 rather than dividing by zero.
  for (let j = 0; j < f; j++) std[j] = Math.sqrt(std[j]! / n) || 1;
  return { mean, std };
}

export function standardize(row: readonly number[], s: Standardization): number[] {
  return row.map((x, j) => (x - s.mean[j]!) / s.std[j]!);
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Solves A x = b (A symmetric positive definite, small) by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((r, i) => [...r, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const k = M[r]![c]! / M[c]![c]!;
      for (let j = c; j <= n; j++) M[r]![j]! -= k * M[c]![j]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let j = r + 1; j < n; j++) s -= M[r]![j]! * x[j]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

/** Newton/IRLS on standardized inputs Z; the intercept is not penalised. */
export function fitLogistic(
  Z: readonly (readonly number[])[],
  y: readonly boolean[],
  opts: { l2: number; iterations: number },
): LogisticModel {
  const f = Z[0]?.length ?? 0;
  const d = f + 1; // last slot is the intercept
  let beta = new Array<number>(d).fill(0);
  for (let it = 0; it < opts.iterations; it++) {
    const H = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    const g = new Array<number>(d).fill(0);
    for (let i = 0; i < Z.length; i++) {
      const z = Z[i]!;
      let eta = beta[f]!;
      for (let j = 0; j < f; j++) eta += beta[j]! * z[j]!;
      const p = sigmoid(eta);
      const w = Math.max(p * (1 - p), 1e-9);
      const r = (y[i] ? 1 : 0) - p;
      for (let a = 0; a < d; a++) {
        const xa = a === f ? 1 : z[a]!;
        g[a]! += xa * r;
        for (let b = a; b < d; b++) H[a]![b]! += w * xa * (b === f ? 1 : z[b]!);
      }
    }
    for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) H[a]![b] = H[b]![a]!;
    for (let j = 0; j < f; j++) {
      H[j]![j]! += opts.l2;
      g[j]! -= opts.l2 * beta[j]!;
    }
    const step = solve(H, g);
    beta = beta.map((v, k) => v + step[k]!);
  }
  return { weights: beta.slice(0, f), intercept: beta[f]! };
}

export function predictLogistic(m: LogisticModel, z: readonly number[]): number {
  let eta = m.intercept;
  for (let j = 0; j < m.weights.length; j++) eta += m.weights[j]! * z[j]!;
  return sigmoid(eta);
}

/** Area under the ROC curve (rank statistic; ties count one half). `scores` rank positives high. */
export function auc(scores: readonly number[], positives: readonly boolean[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
  let rankSumPos = 0;
  let nPos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avgRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++)
      if (positives[idx[k]!]) {
        rankSumPos += avgRank;
        nPos++;
      }
    i = j + 1;
  }
  const nNeg = idx.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export type CalibrationBin = { bin: number; count: number; meanPredicted: number; observedRate: number };

/** Equal-count bins by predicted probability: mean prediction vs observed default rate in each. */
export function calibrationTable(p: readonly number[], y: readonly boolean[], bins = 10): CalibrationBin[] {
  const idx = p.map((_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const lo = Math.floor((b * idx.length) / bins);
    const hi = Math.floor(((b + 1) * idx.length) / bins);
    const slice = idx.slice(lo, hi);
    if (slice.length === 0) continue;
    const meanPredicted = slice.reduce((a, i) => a + p[i]!, 0) / slice.length;
    const observedRate = slice.filter((i) => y[i]).length / slice.length;
    out.push({ bin: b + 1, count: slice.length, meanPredicted, observedRate });
  }
  return out;
}

export function brierScore(p: readonly number[], y: readonly boolean[]): number {
  return p.reduce((a, pi, i) => a + (pi - (y[i] ? 1 : 0)) ** 2, 0) / p.length;
}
