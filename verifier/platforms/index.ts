// Platform verifiers by name. A platform without an entry is refused (ERR_UNKNOWN_PLATFORM): fail closed.
import type { Platform } from '../../protocol/index.ts';
import { simVerifier } from './sim.ts';
import type { PlatformVerifier } from './types.ts';

export const platformVerifiers: Partial<Record<Platform, PlatformVerifier>> = {
  sim: simVerifier,
};

export type { PlatformClaims, PlatformVerifier, VerifyContext } from './types.ts';
