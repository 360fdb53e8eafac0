// A real platform's verifier: the PlatformVerifier (authentic?) plus its policy step (acceptable?).
import type { PropsError } from '../../protocol/index.ts';
import type { PlatformClaims, PlatformVerifier } from './types.ts';
import type { ValidateOptions } from './validate-common.ts';

export interface RealPlatformVerifier<P> extends PlatformVerifier {
  /** Policy only, on authenticated claims; returns every violation (empty = acceptable). */
  validate(claims: PlatformClaims, policy: P, opts: ValidateOptions): PropsError[];
}
