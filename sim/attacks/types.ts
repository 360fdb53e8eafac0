// The shapes of the adversarial catalogue, shared by `sim/attacks.ts` and the per-layer tables under `sim/attacks/`,
// so that neither imports the other's module.

export type AttackLayer = 'provenance' | 'oracle' | 'service' | 'enclave' | 'verifier' | 'chain' | 'registry' | 'kms';
export type AttackOutcome = {
  name: string;
  layer: AttackLayer;
  expected: string;
  rejected: boolean;
  code: string | null;
  traceFree: boolean;
  ok: boolean;
};
/** What one attempt came to: the code it was refused with (null when accepted), and whether it left nothing behind. */
export type Attempt = { code: string | null; traceFree?: boolean };
export type Scenario = {
  name: string;
  layer: AttackLayer;
  expected: string;
  run: () => Promise<Attempt>;
};
/** A row of a layer's table: a named scenario played against the context the table is bound to. */
export type ScenarioOn<C> = Omit<Scenario, 'run'> & { run: (c: C) => Promise<Attempt> };

/** A layer's table bound to its context, ready to run. */
export function bindScenarios<C>(table: ScenarioOn<C>[], c: C): Scenario[] {
  return table.map(({ run, ...s }) => ({ ...s, run: () => run(c) }));
}
