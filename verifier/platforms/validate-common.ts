// Policy helpers shared by the real platforms' validate steps: pins, report_data binding, debug.
import { PropsError, type ErrorCode } from '../../protocol/index.ts';

/** Collects policy failures instead of stopping at the first, so a report can name them all. */
export class Violations {
  readonly list: PropsError[] = [];
  add(code: ErrorCode, detail?: string): void {
    this.list.push(new PropsError(code, detail === undefined ? {} : { detail }));
  }
  pin(list: 'any' | readonly string[], value: string | undefined, name: string): void {
    if (list === 'any') return;
    if (value === undefined || !list.includes(value)) this.add('ERR_EVIDENCE_MEASUREMENT_NOT_ALLOWED', name);
  }
}

export type ValidateOptions = {
  now: Date;
  /** The 64 bytes the evidence must bind (0x-hex); omitted when the caller checks the binding itself. */
  expectedReportData?: string;
  /** Global switch from the policy (evidence.allowDebug); debug passes only when it and the section allow it. */
  allowDebugGlobal?: boolean;
};

export function checkCommon(
  v: Violations,
  claims: { debug: boolean; reportData: string },
  allowDebugSection: boolean,
  opts: ValidateOptions,
): void {
  if (claims.debug && !(allowDebugSection && (opts.allowDebugGlobal ?? true))) v.add('ERR_EVIDENCE_DEBUG');
  if (opts.expectedReportData !== undefined && opts.expectedReportData.toLowerCase() !== claims.reportData)
    v.add('ERR_EVIDENCE_REPORT_DATA_MISMATCH');
}
