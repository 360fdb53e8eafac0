// The verification time every check is made at, and the one parser for the `--now` a command is given. An invalid
// Date compares false against every bound, so each validity window ("now < notBefore", "now > exp") would let
// anything through: it is refused before any check.
import { PropsError } from '../protocol/index.ts';

/** `now` as epoch milliseconds, or ERR_NOW_INVALID for anything but a valid Date. */
export function verificationTime(now: unknown): number {
  const t = now instanceof Date ? now.getTime() : Number.NaN;
  if (!Number.isFinite(t)) throw new PropsError('ERR_NOW_INVALID');
  return t;
}

/** The formats `--now` accepts, as every usage text states them. */
export const NOW_FORMATS = 'YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM[:SS[.fff]] with Z or ±HH:MM';

// A time without a zone would be read in the machine's local zone, so the same command would verify differently
// on two machines: a time must name its offset. The calendar is checked field by field, since Date rolls
// 2025-02-30 over into March rather than refusing it.
const NOW_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Parses a `--now` value (see NOW_FORMATS); `undefined` gives `fallback()`. Anything else, including a date that
 * does not exist, throws ERR_NOW_INVALID (a usage error: exit 2). The value itself is never echoed.
 */
export function parseNow(value: string | undefined, fallback: () => Date = () => new Date()): Date {
  if (value === undefined) return fallback();
  const m = NOW_RE.exec(value);
  if (!m) throw nowInvalid();
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const zone = m[8] ?? 'Z';
  // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  if (
    t.getUTCFullYear() !== y ||
    t.getUTCMonth() !== mo - 1 ||
    t.getUTCDate() !== d ||
    t.getUTCHours() !== h ||
    t.getUTCMinutes() !== mi ||
    t.getUTCSeconds() !== s
  )
    throw nowInvalid();
  let offset = 0;
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) throw nowInvalid();
    offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return new Date(t.getTime() - offset);
}

const nowInvalid = () => new PropsError('ERR_NOW_INVALID', { detail: `--now must be ${NOW_FORMATS}` });
