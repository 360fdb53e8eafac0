// A verification run is a list of named checks; a report is ok only when every check is ok.
import { findPropsError, type ErrorCode } from '../protocol/index.ts';

export type Check = {
  id: string;
  ok: boolean;
  code?: ErrorCode;
  detail?: string;
  /** On a passed policy-pin check: false when the policy said "any", so nothing was compared (the EAR claims no approval). */
  pinned?: boolean;
};

export function pass(id: string, detail?: string): Check {
  return detail === undefined ? { id, ok: true } : { id, ok: true, detail };
}

export function fail(id: string, code: ErrorCode, detail?: string): Check {
  return detail === undefined ? { id, ok: false, code } : { id, ok: false, code, detail };
}

/** Runs one check; a thrown PropsError becomes a failed check carrying its code; anything else is internal. */
export async function runCheck(
  id: string,
  fn: () => Promise<string | void> | string | void,
  fallback: ErrorCode,
): Promise<Check> {
  try {
    const detail = await fn();
    return pass(id, detail ?? undefined);
  } catch (e) {
    const pe = findPropsError(e);
    return pe ? fail(id, pe.code, pe.detail) : fail(id, fallback);
  }
}
