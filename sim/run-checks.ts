// The simulation's checklist: every step is recorded for the summary and printed as a ✓ or ✗ line as it happens.
export type Check = { step: string; ok: boolean; detail?: string };
export type Step = (name: string, ok: boolean, detail?: string) => void;

export function createChecks(log: (line: string) => void): { checks: Check[]; step: Step } {
  const checks: Check[] = [];
  const step: Step = (name, ok, detail) => {
    checks.push(detail === undefined ? { step: name, ok } : { step: name, ok, detail });
    log(`${ok ? '✓' : '✗'} ${name}${detail ? ` — ${detail}` : ''}`);
  };
  return { checks, step };
}
