// One appraisal of real evidence: verify (authentic?) then validate (acceptable under the policy's section?),
// as the verdict object `props attest verify --json` prints. A platform missing from the policy is refused.
import { ERROR_MESSAGES, findPropsError, PropsError, type ErrorCode, type Platform } from '../../protocol/index.ts';
import { verificationTime } from '../now.ts';
import type { Policy } from '../policy.ts';
import type { PlatformClaims, PlatformVerifier } from './types.ts';
import type { RealInputs } from './inputs.ts';
import type { RealPlatformVerifier } from './real-types.ts';

export type AttestVerdict = {
  ok: boolean;
  platform: Platform;
  status?: string;
  advisories?: string[];
  /** null when the evidence did not authenticate (nothing it says is known). */
  debug: boolean | null;
  reportData: string | null;
  measurements: Record<string, string>;
  /** Measurement pins the policy waived with "any". */
  unpinned?: string[];
  errors: { code: ErrorCode; message: string }[];
};

export type VerifierMap = Partial<
  Record<Platform, PlatformVerifier & Partial<Pick<RealPlatformVerifier<unknown>, 'validate'>>>
>;

export type AppraiseParameters = {
  platform: Platform;
  evidence: Uint8Array;
  inputs: RealInputs;
  policy: Policy;
  now: Date;
  expectedReportData?: string;
  verifiers: VerifierMap;
};

const errOf = (e: PropsError) => ({ code: e.code, message: e.message });

export async function appraise(p: AppraiseParameters): Promise<AttestVerdict> {
  verificationTime(p.now);
  const v = p.verifiers[p.platform];
  if (!v) throw new PropsError('ERR_PLATFORM_VERIFIER_UNAVAILABLE', { detail: p.platform });
  let claims: PlatformClaims;
  try {
    claims = await v.verify(p.evidence, { now: p.now, collateral: p.inputs });
  } catch (e) {
    const pe = findPropsError(e);
    if (!pe) throw e;
    return { ok: false, platform: p.platform, debug: null, reportData: null, measurements: {}, errors: [errOf(pe)] };
  }
  const errors: { code: ErrorCode; message: string }[] = [];
  const section = (p.policy.evidence.platforms as Record<string, unknown>)[p.platform];
  const unpinned: string[] = [];
  if (section === undefined) {
    errors.push({
      code: 'ERR_EVIDENCE_PLATFORM_NOT_ALLOWED',
      message: ERROR_MESSAGES.ERR_EVIDENCE_PLATFORM_NOT_ALLOWED,
    });
  } else if (v.validate) {
    const opts = {
      now: p.now,
      allowDebugGlobal: p.policy.evidence.allowDebug,
      ...(p.expectedReportData === undefined ? {} : { expectedReportData: p.expectedReportData }),
    };
    errors.push(...v.validate(claims, section, opts).map(errOf));
    for (const [k, val] of Object.entries(section as Record<string, unknown>)) if (val === 'any') unpinned.push(k);
  }
  // Key order follows the documented output: ok, platform, status?, debug, reportData, measurements, errors.
  return {
    ok: errors.length === 0,
    platform: p.platform,
    ...(claims.status === undefined ? {} : { status: claims.status }),
    ...(claims.advisories === undefined ? {} : { advisories: claims.advisories }),
    debug: claims.debug,
    reportData: claims.reportData,
    measurements: claims.measurements,
    ...(unpinned.length ? { unpinned } : {}),
    errors,
  };
}
