// Tiny benchmark harness: warm up, then time N iterations with process.hrtime; report per-op medians of batches.
export type BenchResult = {
  name: string;
  opsPerSec: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  samples: number;
};

export async function bench(
  name: string,
  fn: () => unknown | Promise<unknown>,
  opts: { iterations?: number; warmup?: number } = {},
): Promise<BenchResult> {
  const iterations = opts.iterations ?? 2000;
  for (let i = 0; i < (opts.warmup ?? Math.min(200, iterations)); i++) await fn();
  const times: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const total = Number(process.hrtime.bigint() - start) / 1000;
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0;
  return {
    name,
    opsPerSec: (iterations / total) * 1e6,
    meanUs: total / iterations,
    p50Us: q(0.5),
    p99Us: q(0.99),
    samples: iterations,
  };
}

export function printTable(title: string, rows: BenchResult[], baseline?: string): void {
  const base = rows.find((r) => r.name === baseline);
  process.stdout.write(`\n${title}\n`);
  process.stdout.write(
    `${'case'.padEnd(44)}${'ops/s'.padStart(12)}${'p50 µs'.padStart(10)}${'p99 µs'.padStart(10)}${base ? 'ratio'.padStart(9) : ''}\n`,
  );
  for (const r of rows) {
    const ratio = base ? `${(r.p50Us / base.p50Us).toFixed(2)}×`.padStart(9) : '';
    process.stdout.write(
      `${r.name.padEnd(44)}${r.opsPerSec.toFixed(0).padStart(12)}${r.p50Us.toFixed(1).padStart(10)}${r.p99Us.toFixed(1).padStart(10)}${ratio}\n`,
    );
  }
}

export const wantsJson = () => process.argv.includes('--json');
