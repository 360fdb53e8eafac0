// DCAP policy: TCB status allow-list, forbidden advisories, collateral age, debug, report_data, measurement pins.
import type { z } from 'zod';
import type { sgxPlatformPolicy, tdxPlatformPolicy } from '../../policy.ts';
import { checkCommon, Violations, type ValidateOptions } from '../validate-common.ts';
import type { PropsError } from '../../../protocol/index.ts';
import type { DcapClaims } from './verify.ts';
import { verificationTime } from '../../now.ts';

export type TdxPolicy = z.infer<typeof tdxPlatformPolicy>;
export type SgxPolicy = z.infer<typeof sgxPlatformPolicy>;

function common(v: Violations, c: DcapClaims, p: TdxPolicy | SgxPolicy, opts: ValidateOptions): void {
  if (!(p.tcbStatuses as readonly string[]).includes(c.status)) v.add('ERR_TCB_STATUS_NOT_ALLOWED', c.status);
  const bad = c.advisories.filter((a) => p.forbiddenAdvisories.includes(a));
  if (bad.length) v.add('ERR_TCB_STATUS_NOT_ALLOWED', `advisory ${bad.join(',')}`);
  if (verificationTime(opts.now) - Date.parse(c.collateralIssuedAt) > p.maxCollateralAgeSeconds * 1000)
    v.add('ERR_COLLATERAL_TOO_OLD');
  checkCommon(v, c, p.allowDebug, opts);
}

// TD_ATTRIBUTES (TDX module ABI): byte 0 TUD (bit 0 DEBUG, others reserved), bytes 1-3 SEC (bits 0-19 reserved,
// bit 28 SEPT_VE_DISABLE, bit 29 reserved, 30 PKS, 31 KL), bytes 4-7 OTHER (bits 32-62 reserved, 63 PERFMON).
export const TD_ATTR_TUD_RESERVED = 0xfe;
export const TD_ATTR_SEC_RESERVED = (0xfffffn << 8n) | (1n << 29n); // bits 8..27 and 29
export const TD_ATTR_SEPT_VE_DISABLE = 1n << 28n;
export const TD_ATTR_OTHER_RESERVED = 0x7fffffffn << 32n;

/** Same rules as Intel's QVL appraisal and @phala/dcap-qvl: no reserved bits, SEPT #VE disabled, no service TD. */
function checkTdAttributes(v: Violations, c: DcapClaims): void {
  if (!c.tdAttributes) return;
  const a = Buffer.from(c.tdAttributes.slice(2), 'hex').readBigUInt64LE(0);
  if (a & BigInt(TD_ATTR_TUD_RESERVED) || a & TD_ATTR_SEC_RESERVED || a & TD_ATTR_OTHER_RESERVED)
    v.add('ERR_TD_ATTRIBUTES_NOT_ALLOWED', 'reserved bits');
  if (!(a & TD_ATTR_SEPT_VE_DISABLE)) v.add('ERR_TD_ATTRIBUTES_NOT_ALLOWED', 'SEPT_VE_DISABLE');
  const st = c.measurements.mrServiceTd;
  if (st !== undefined && !/^0x0*$/.test(st)) v.add('ERR_TD_ATTRIBUTES_NOT_ALLOWED', 'mr_servicetd');
}

export function validateTdx(
  c: DcapClaims,
  p: TdxPolicy,
  opts: ValidateOptions & { eventLogReplayed: boolean },
): PropsError[] {
  const v = new Violations();
  common(v, c, p, opts);
  checkTdAttributes(v, c);
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
