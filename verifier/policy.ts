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

// 2: the required `bundle` section (transparency-log inclusion). A version 1 file is refused as an unknown version
// rather than read with the new requirement guessed.
export const POLICY_VERSION = 2;

const anyOr = <T extends z.ZodType>(t: T) => z.union([z.literal('any'), z.array(t).min(1).max(256)]);

export const simPlatformPolicy = z.strictObject({
  /** SHA-256 fingerprints of accepted simulated roots (raw public key bytes), or "any". */
  rootKeys: anyOr(hex32),
});

// Per-platform sections for real hardware. Every field is required; "any" waives a pin explicitly.
const hex48 = z.string().regex(/^0x[0-9a-f]{96}$/, 'expected 0x + 96 lowercase hex');
export const TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
] as const; // 'Revoked' is deliberately absent: no policy can accept it.
const tcbStatuses = z.array(z.enum(TCB_STATUSES)).min(1);
const u8 = z.number().int().min(0).max(255);

export const tdxPlatformPolicy = z.strictObject({
  tcbStatuses,
  /** Advisory IDs that refuse the quote even under an allowed status (e.g. ["INTEL-SA-00615"]), or []. */
  forbiddenAdvisories: z.array(z.string().regex(/^INTEL-SA-\d{5}$/)).max(256),
  /** Oldest acceptable TCB info / QE identity issue date, as an age at `now`. */
  maxCollateralAgeSeconds: z.number().int().positive(),
  allowDebug: z.boolean(),
  mrtd: anyOr(hex48),
  rtmr0: anyOr(hex48),
  rtmr1: anyOr(hex48),
  rtmr2: anyOr(hex48),
  rtmr3: anyOr(hex48),
  mrConfigId: anyOr(hex48),
  /** An event log must be given and must replay to RTMR0-3. */
  requireEventLog: z.boolean(),
});

export const sgxPlatformPolicy = z.strictObject({
  tcbStatuses,
  forbiddenAdvisories: z.array(z.string().regex(/^INTEL-SA-\d{5}$/)).max(256),
  maxCollateralAgeSeconds: z.number().int().positive(),
  allowDebug: z.boolean(),
  mrEnclave: anyOr(hex32),
  mrSigner: anyOr(hex32),
  minIsvSvn: z.number().int().min(0).max(65535),
});

export const sevSnpPlatformPolicy = z.strictObject({
  allowDebug: z.boolean(),
  measurement: anyOr(hex48),
  hostData: anyOr(hex32),
  /** Minimum reported TCB, per component. */
  minTcb: z.strictObject({ bootloader: u8, tee: u8, snp: u8, microcode: u8 }),
  /** SHA-256 fingerprints (DER) of accepted AMD roots (ARK), or "any" for the built-in pins. */
  arkFingerprints: anyOr(hex32),
});

export const nitroPlatformPolicy = z.strictObject({
  /** PCR0-2 all zero: the enclave runs in debug mode. */
  allowDebug: z.boolean(),
  pcr0: anyOr(hex48),
  pcr1: anyOr(hex48),
  pcr2: anyOr(hex48),
  pcr8: anyOr(hex48),
  /** Maximum age of the attestation document (its timestamp) at `now`. */
  maxDocumentAgeSeconds: z.number().int().positive(),
});

export const nvidiaPlatformPolicy = z.strictObject({
  /** Driver versions accepted (from the signed opaque data), or "any". */
  driverVersions: anyOr(z.string().min(1).max(64)),
  /** SHA-256 fingerprints of accepted device roots, or "any" for the pinned NVIDIA Device Identity CA. */
  rootFingerprints: anyOr(hex32),
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
      tdx: tdxPlatformPolicy.optional(),
      sgx: sgxPlatformPolicy.optional(),
      'sev-snp': sevSnpPlatformPolicy.optional(),
      nitro: nitroPlatformPolicy.optional(),
      nvidia: nvidiaPlatformPolicy.optional(),
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
  bundle: z.strictObject({
    /**
     * Every result of an audit bundle must come with its inclusion proof under a signed head of its enclave's log.
     * false waives that (a bundle made outside a service, with no log): the verdict reports it as relaxed.
     */
    requireLogInclusion: z.boolean(),
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
export function checkPinned(
  list: 'any' | readonly string[],
  value: string,
  code: ConstructorParameters<typeof PropsError>[0],
): 'pinned' | 'any' {
  if (list === 'any') return 'any';
  if (list.includes(value)) return 'pinned';
  throw new PropsError(code);
}

export { canonicalJson };
