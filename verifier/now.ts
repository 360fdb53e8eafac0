// The verification time every check is made at. An invalid Date compares false against every bound, so each
// validity window ("now < notBefore", "now > exp") would let anything through: it is refused before any check.
import { PropsError } from '../protocol/index.ts';

/** `now` as epoch milliseconds, or ERR_NOW_INVALID for anything but a valid Date. */
export function verificationTime(now: unknown): number {
  const t = now instanceof Date ? now.getTime() : Number.NaN;
  if (!Number.isFinite(t)) throw new PropsError('ERR_NOW_INVALID');
  return t;
}
