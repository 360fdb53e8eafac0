// DCAP policy: TCB status allow-list, forbidden advisories, collateral age, debug, report_data, measurement pins.
import type { z } from 'zod';
import type { sgxPlatformPolicy, tdxPlatformPolicy } from '../../policy.ts';
import { checkCommon, Violations, type ValidateOptions } from '../validate-common.ts';
import type { PropsError } from '../../../protocol/index.ts';
import type { DcapClaims } from './verify.ts';

export type TdxPolicy = z.infer<typeof tdxPlatformPolicy>;
export type SgxPolicy = z.infer<typeof sgxPlatformPolicy>;

function common(v: Violations, c: DcapClaims, p: TdxPolicy | SgxPolicy, opts: ValidateOptions): void {
  if (!(p.tcbStatuses as readonly string[]).includes(c.status)) v.add('ERR_TCB_STATUS_NOT_ALLOWED', c.status);
  const bad = c.advisories.filter((a) => p.forbiddenAdvisories.includes(a));
  if (bad.length) v.add('ERR_TCB_STATUS_NOT_ALLOWED', `advisory ${bad.join(',')}`);
  if (opts.now.getTime() - Date.parse(c.collateralIssuedAt) > p.maxCollateralAgeSeconds * 1000) v.add('ERR_COLLATERAL_TOO_OLD');
  checkCommon(v, c, p.allowDebug, opts);
}

export function validateTdx(c: DcapClaims, p: TdxPolicy, opts: ValidateOptions & { eventLogReplayed: boolean }): PropsError[] {
  const v = new Violations();
  common(v, c, p, opts);
  const m = c.measurements;
  v.pin(p.mrtd, m.mrtd, 'mrtd');
  v.pin(p.rtmr0, m.rtmr0, 'rtmr0');
  v.pin(p.rtmr1, m.rtmr1, 'rtmr1');
  v.pin(p.rtmr2, m.rtmr2, 'rtmr2');
  v.pin(p.rtmr3, m.rtmr3, 'rtmr3');
  v.pin(p.mrConfigId, m.mrConfigId, 'mrConfigId');
  if (p.requireEventLog && !opts.eventLogReplayed) v.add('ERR_EVENT_LOG_MISMATCH', 'an event log is required');
  return v.list;
}

export function validateSgx(c: DcapClaims, p: SgxPolicy, opts: ValidateOptions): PropsError[] {
  const v = new Violations();
  common(v, c, p, opts);
  v.pin(p.mrEnclave, c.measurements.mrEnclave, 'mrEnclave');
  v.pin(p.mrSigner, c.measurements.mrSigner, 'mrSigner');
  if ((c.isvSvn ?? -1) < p.minIsvSvn) v.add('ERR_TCB_TOO_LOW', 'isvSvn');
  return v.list;
}
