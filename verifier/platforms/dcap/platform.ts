// The TDX and SGX PlatformVerifiers: DCAP authentication (verify.ts), event-log replay for TDX, then policy
// (validate.ts). One shared DcapVerifier keeps the collateral / PCK caches warm across calls.
import { PropsError, type Platform } from '../../../protocol/index.ts';
import type { PlatformClaims, VerifyContext } from '../types.ts';
import { realInputs } from '../inputs.ts';
import type { RealPlatformVerifier } from '../real-types.ts';
import { checkEventLog } from './eventlog.ts';
import { DcapVerifier, type DcapClaims } from './verify.ts';
import { validateSgx, validateTdx, type SgxPolicy, type TdxPolicy } from './validate.ts';

export type TdxClaims = DcapClaims & { eventLogReplayed: boolean; eventCount?: number };

export function makeDcapVerifiers(dcap: DcapVerifier = new DcapVerifier()): {
  tdx: RealPlatformVerifier<TdxPolicy>;
  sgx: RealPlatformVerifier<SgxPolicy>;
} {
  const run = async (want: Platform, quote: Uint8Array, ctx: VerifyContext): Promise<TdxClaims> => {
    const inputs = realInputs(ctx.collateral);
    const { claims } = await dcap.verify(quote, inputs.collateral, ctx.now);
    if (claims.platform !== want)
      throw new PropsError('ERR_EVIDENCE_MALFORMED', { detail: `quote is ${claims.platform}, not ${want}` });
    if (inputs.eventLog === undefined) return { ...claims, eventLogReplayed: false };
    if (want !== 'tdx') throw new PropsError('ERR_INPUT_MALFORMED', { detail: 'event logs are for TDX' });
    const m = claims.measurements;
    const replay = checkEventLog(inputs.eventLog, [m.rtmr0, m.rtmr1, m.rtmr2, m.rtmr3] as string[]);
    return { ...claims, eventLogReplayed: true, eventCount: replay.events.length };
  };
  return {
    tdx: {
      platform: 'tdx',
      verify: (q, ctx) => run('tdx', q, ctx),
      validate: (c: PlatformClaims, p, opts) => {
        const tc = c as TdxClaims;
        return validateTdx(tc, p, { ...opts, eventLogReplayed: tc.eventLogReplayed === true });
      },
    },
    sgx: {
      platform: 'sgx',
      verify: (q, ctx) => run('sgx', q, ctx),
      validate: (c: PlatformClaims, p, opts) => validateSgx(c as DcapClaims, p, opts),
    },
  };
}
