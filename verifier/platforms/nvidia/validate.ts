// NVIDIA policy: accepted device roots and driver versions, report_data (the SPDM nonce) binding.
import type { z } from 'zod';
import type { PropsError } from '../../../protocol/index.ts';
import type { nvidiaPlatformPolicy } from '../../policy.ts';
import { checkCommon, Violations, type ValidateOptions } from '../validate-common.ts';
import type { NvidiaClaims } from './verify.ts';

export type NvidiaPolicy = z.infer<typeof nvidiaPlatformPolicy>;

export function validateNvidia(c: NvidiaClaims, p: NvidiaPolicy, opts: ValidateOptions): PropsError[] {
  const v = new Violations();
  checkCommon(v, c, false, opts);
  if (p.driverVersions !== 'any' && (c.driverVersion === undefined || !p.driverVersions.includes(c.driverVersion)))
    v.add('ERR_EVIDENCE_MEASUREMENT_NOT_ALLOWED', 'driverVersion');
  if (p.rootFingerprints !== 'any' && !p.rootFingerprints.includes(c.rootFingerprint))
    v.add('ERR_EVIDENCE_ROOT_UNTRUSTED');
  return v.list;
}
