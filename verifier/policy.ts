// Appraisal policy: a versioned data file, every field required. "any" must be written out to waive a pin,
// and the verdict reports it as unpinned — nothing is unchecked merely because a field was left out.
import { z } from 'zod';
import {
  assertVersion,
  canonicalJson,
  digestJson,
  hex32,
  address,
  parseJsonText,
  parseWith,
  PropsError,
  TAGS,
  type Hex,
} from '../protocol/index.ts';

export const POLICY_VERSION = 1;

const anyOr = <T extends z.ZodType>(t: T) => z.union([z.literal('any'), z.array(t).min(1).max(256)]);

export const simPlatformPolicy = z.strictObject({
  /** SHA-256 fingerprints of accepted simulated roots (raw public key bytes), or "any". */
  rootKeys: anyOr(hex32),
});

export const policySchema = z.strictObject({
  version: z.literal(POLICY_VERSION),
  id: z.string().min(1).max(128),
  evidence: z.strictObject({
    allowSimulated: z.boolean(),
    allowDebug: z.boolean(),
    /** Listed platforms are accepted; a platform not listed is refused. */
    platforms: z.strictObject({
      sim: simPlatformPolicy.optional(),
    }),
  }),
  manifest: z.strictObject({
    codeHashes: anyOr(hex32),
    modelHashes: anyOr(hex32),
    policyHashes: anyOr(hex32),
  }),
  result: z.strictObject({
    algorithms: z.array(z.enum(['ES256', 'EdDSA'])).min(1),
    maxAgeSeconds: z.number().int().positive(),
    clockSkewSeconds: z.number().int().nonnegative().max(600),
    eip712Domains: anyOr(z.strictObject({ chainId: z.number().int().positive(), verifyingContract: address })),
  }),
});

export type Policy = z.infer<typeof policySchema>;

export function parsePolicy(input: unknown): Policy {
  assertVersion(input, 'version', [POLICY_VERSION]);
  return parseWith(policySchema, input, 'ERR_POLICY_MALFORMED');
}

export function parsePolicyText(text: string): Policy {
  return parsePolicy(parseJsonText(text, 256 * 1024));
}

export const policyHash = (p: Policy): Hex => digestJson(TAGS.policy, p);

/** Is `value` allowed by a pin list? Returns 'pinned' | 'any' or throws `code`. */
export function checkPinned(list: 'any' | readonly string[], value: string, code: ConstructorParameters<typeof PropsError>[0]): 'pinned' | 'any' {
  if (list === 'any') return 'any';
  if (list.includes(value)) return 'pinned';
  throw new PropsError(code);
}

export { canonicalJson };
