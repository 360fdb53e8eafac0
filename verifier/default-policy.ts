// The shipped default appraisal policy: simulated evidence refused, debug refused, ES256 only; measurement pins are
// explicitly "any" and every report says so — pin them in your own policy file for production.
import defaultPolicy from './policies/default.json' with { type: 'json' };
import { parsePolicy, type Policy } from './policy.ts';

export function loadDefaultPolicy(): Policy {
  return parsePolicy(structuredClone(defaultPolicy));
}
