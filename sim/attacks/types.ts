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
export type Scenario = {
  name: string;
  layer: AttackLayer;
  expected: string;
  run: () => Promise<{ code: string | null; traceFree?: boolean }>;
};
