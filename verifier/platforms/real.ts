// Registry of the real-hardware verifiers: platform → RealPlatformVerifier. verifier/platforms/index.ts merges this
// map with the sim verifier. Each entry verifies (authentic?) and validates (acceptable?).
import { PropsError, type Platform } from '../../protocol/index.ts';
import type { Policy } from '../policy.ts';
import type { PlatformClaims, VerifyContext } from './types.ts';
import type { RealPlatformVerifier } from './real-types.ts';
import { realInputs } from './inputs.ts';
import { makeDcapVerifiers } from './dcap/platform.ts';
import { DcapVerifier } from './dcap/verify.ts';
import { verifySnp } from './sev-snp/verify.ts';
import { validateSnp, type SnpPolicy } from './sev-snp/validate.ts';
import type { SnpClaims } from './sev-snp/verify.ts';
import { verifyNitro, type NitroClaims } from './nitro/verify.ts';
import { validateNitro, type NitroPolicy } from './nitro/validate.ts';
import { verifyNvidia, type NvidiaClaims } from './nvidia/verify.ts';
import { validateNvidia, type NvidiaPolicy } from './nvidia/validate.ts';

export type RealPlatform = Exclude<Platform, 'sim'>;
type Sections = Policy['evidence']['platforms'];
export type RealVerifierMap = { [P in RealPlatform]: RealPlatformVerifier<NonNullable<Sections[P]>> };

const sevSnp: RealPlatformVerifier<SnpPolicy> = {
  platform: 'sev-snp',
  verify: async (q: Uint8Array, ctx: VerifyContext) => verifySnp(q, realInputs(ctx.collateral).certs, ctx.now),
  validate: (c: PlatformClaims, p, opts) => validateSnp(c as SnpClaims, p, opts),
};

const nitro: RealPlatformVerifier<NitroPolicy> = {
  platform: 'nitro',
  verify: async (q: Uint8Array, ctx: VerifyContext) => {
    realInputs(ctx.collateral);
    return verifyNitro(q, ctx.now);
  },
  validate: (c: PlatformClaims, p, opts) => validateNitro(c as NitroClaims, p, opts),
};

const nvidia: RealPlatformVerifier<NvidiaPolicy> = {
  platform: 'nvidia',
  verify: async (q: Uint8Array, ctx: VerifyContext) => {
    const inputs = realInputs(ctx.collateral);
    return verifyNvidia(q, inputs.certs, ctx.now, inputs.expectedNonce);
  },
  validate: (c: PlatformClaims, p, opts) => validateNvidia(c as NvidiaClaims, p, opts),
};

/** A fresh map (own DCAP caches). */
export function makeRealVerifiers(dcap: DcapVerifier = new DcapVerifier()): RealVerifierMap {
  const { tdx, sgx } = makeDcapVerifiers(dcap);
  return { tdx, sgx, 'sev-snp': sevSnp, nitro, nvidia };
}

/** The process-wide map; its DCAP caches are shared by every caller. */
export const realVerifiers: RealVerifierMap = makeRealVerifiers();

/** For one-shot checks (the CLI): DCAP quotes are also verified by @phala/dcap-qvl, and both must agree. */
export const crossCheckedVerifiers = (): RealVerifierMap => makeRealVerifiers(new DcapVerifier({ crossCheck: true }));

export function isRealPlatform(p: string): p is RealPlatform {
  return p === 'tdx' || p === 'sgx' || p === 'sev-snp' || p === 'nitro' || p === 'nvidia';
}

export function realVerifier(p: string): RealPlatformVerifier<unknown> {
  if (!isRealPlatform(p)) throw new PropsError('ERR_UNKNOWN_PLATFORM', { detail: p });
  return realVerifiers[p] as RealPlatformVerifier<unknown>;
}
