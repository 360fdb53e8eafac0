// Nitro policy: debug (PCR0-2 zero), PCR pins, document age, report_data (user_data) binding.
import type { z } from 'zod';
import type { PropsError } from '../../../protocol/index.ts';
import type { nitroPlatformPolicy } from '../../policy.ts';
import { checkCommon, Violations, type ValidateOptions } from '../validate-common.ts';
import type { NitroClaims } from './verify.ts';
import { verificationTime } from '../../now.ts';

export type NitroPolicy = z.infer<typeof nitroPlatformPolicy>;

export function validateNitro(c: NitroClaims, p: NitroPolicy, opts: ValidateOptions): PropsError[] {
  const v = new Violations();
  checkCommon(v, c, p.allowDebug, opts);
  v.pin(p.pcr0, c.measurements.pcr0, 'pcr0');
  v.pin(p.pcr1, c.measurements.pcr1, 'pcr1');
  v.pin(p.pcr2, c.measurements.pcr2, 'pcr2');
  v.pin(p.pcr8, c.measurements.pcr8, 'pcr8');
  const age = verificationTime(opts.now) - Date.parse(c.timestamp);
  if (age > p.maxDocumentAgeSeconds * 1000) v.add('ERR_COLLATERAL_TOO_OLD', 'attestation document');
  if (age < -60_000) v.add('ERR_EVIDENCE_MALFORMED', 'attestation document from the future');
  return v.list;
}
