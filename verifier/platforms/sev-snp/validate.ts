// SEV-SNP policy: debug bit, measurement and host-data pins, minimum reported TCB, accepted ARKs, report_data.
import type { z } from 'zod';
import type { PropsError } from '../../../protocol/index.ts';
import type { sevSnpPlatformPolicy } from '../../policy.ts';
import { checkCommon, Violations, type ValidateOptions } from '../validate-common.ts';
import type { SnpClaims } from './verify.ts';

export type SnpPolicy = z.infer<typeof sevSnpPlatformPolicy>;

export function validateSnp(c: SnpClaims, p: SnpPolicy, opts: ValidateOptions): PropsError[] {
  const v = new Violations();
  checkCommon(v, c, p.allowDebug, opts);
  v.pin(p.measurement, c.measurements.measurement, 'measurement');
  v.pin(p.hostData, c.measurements.hostData, 'hostData');
  for (const k of ['bootloader', 'tee', 'snp', 'microcode'] as const) {
    if (c.reportedTcb[k] < p.minTcb[k]) v.add('ERR_TCB_TOO_LOW', k);
  }
  if (p.arkFingerprints !== 'any' && !p.arkFingerprints.includes(c.rootFingerprint))
    v.add('ERR_EVIDENCE_ROOT_UNTRUSTED', 'ARK not in policy');
  return v.list;
}
