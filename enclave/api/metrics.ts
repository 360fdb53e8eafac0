// Counters served at /metrics in the Prometheus text format, beside gauges read when asked (log size, store queries).
export type Metrics = { count(name: string): void; text(gauges: Record<string, number | undefined>): string };

export function metrics(): Metrics {
  const counters = new Map<string, number>();
  return {
    count: (k) => counters.set(k, (counters.get(k) ?? 0) + 1),
    text: (gauges) => {
      const lines = Object.entries(gauges).flatMap(([k, v]) =>
        v === undefined ? [] : [`# TYPE ${k} ${k.endsWith('_total') ? 'counter' : 'gauge'}`, `${k} ${v}`],
      );
      return `${[...lines, ...[...counters].map(([k, v]) => `${k} ${v}`)].join('\n')}\n`;
    },
  };
}
