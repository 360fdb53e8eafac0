// `props sim --attacks`: the adversarial catalogue. Each scenario plays one threat against the running world and
// must be rejected at the right layer with its expected code, leaving no trace (no payment, job still open, no
// nonce consumed). A scenario that is accepted, or rejected for another reason, fails the run.
// The scenarios live in one table per layer under `sim/attacks/`; this file builds their context and runs them.
import { chainScenarios } from './attacks/chain.ts';
import { attackContext, codeOf, type AttackContext } from './attacks/context.ts';
import { enclaveScenarios } from './attacks/enclave.ts';
import { kmsScenarios } from './attacks/kms.ts';
import { oracleScenarios } from './attacks/oracle.ts';
import { provenanceScenarios } from './attacks/provenance.ts';
import { serviceScenarios } from './attacks/service.ts';
import type { AttackOutcome, Scenario } from './attacks/types.ts';
import { verifierScenarios } from './attacks/verifier.ts';
import { createWorld } from './world.ts';

/** The whole catalogue, in the order it runs. */
const catalogue = (c: AttackContext): Scenario[] => [
  ...oracleScenarios(c),
  ...provenanceScenarios(c),
  ...enclaveScenarios(c),
  ...verifierScenarios(c),
  ...chainScenarios(c),
  ...serviceScenarios(c),
  ...kmsScenarios(c.w),
];

/** Plays one scenario and logs its line; a scenario that throws is reported with the code it threw. */
async function play(s: Scenario, log: (line: string) => void): Promise<AttackOutcome> {
  let code: string | null;
  let traceFree = true;
  try {
    const r = await s.run();
    code = r.code;
    traceFree = r.traceFree ?? true;
  } catch (e) {
    code = `SCENARIO_ERROR:${codeOf(e)}`;
  }
  const rejected = code !== null;
  const ok = rejected && code === s.expected && traceFree;
  log(
    `${ok ? '✓' : '✗'} ${s.layer.padEnd(10)} ${s.name.padEnd(70)} ${code ?? 'ACCEPTED'}${traceFree ? '' : '  (LEFT A TRACE)'}`,
  );
  return { name: s.name, layer: s.layer, expected: s.expected, rejected, code, traceFree, ok };
}

export async function runAttacks(o: {
  log: (line: string) => void;
  threshold?: number;
}): Promise<{ ok: boolean; attacks: AttackOutcome[] }> {
  const w = await createWorld({ lenders: 2, log: o.log });
  let c: AttackContext | undefined;
  try {
    c = await attackContext(w, o.threshold ?? 600);
    const outcomes: AttackOutcome[] = [];
    for (const s of catalogue(c)) outcomes.push(await play(s, o.log));
    return { ok: outcomes.every((x) => x.ok), attacks: outcomes };
  } finally {
    await c?.side.close();
    await w.close();
  }
}
