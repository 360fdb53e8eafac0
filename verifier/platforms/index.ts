// Platform verifiers by name. A platform without an entry is refused (ERR_UNKNOWN_PLATFORM): fail closed.
// The browser build replaces ./real.ts with an empty map (its verifiers need node:crypto X.509).
import type { Platform } from '../../protocol/index.ts';
import { realVerifiers } from './real.ts';
import { simVerifier } from './sim.ts';
import type { PlatformVerifier } from './types.ts';

export const platformVerifiers: Partial<Record<Platform, PlatformVerifier>> = {
  sim: simVerifier,
  ...realVerifiers,
};

export type { PlatformClaims, PlatformVerifier, VerifyContext } from './types.ts';
export type { RealPlatformVerifier } from './real-types.ts';
