// Turning `unknown` into typed values: zod schemas, coded failures, no partial acceptance.
import type { z } from 'zod';
import { PropsError, type ErrorCode } from './errors.ts';

/** Parses with a schema; on failure throws `code` with the first failing path (never the offending value). */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, code: ErrorCode): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.length ? issue.path.join('.') : '(root)';
  throw new PropsError(code, { detail: `${path}: ${issue?.code ?? 'invalid'}`, cause: r.error });
}

/**
 * Version dispatch before schema checks, so an unknown version answers ERR_UNKNOWN_VERSION rather than a
 * generic schema error.
 */
export function assertVersion(input: unknown, field: string, known: readonly unknown[]): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return;
  const v = (input as Record<string, unknown>)[field];
  // The detail names a small integer only: any other value could carry what the input holds (or not stringify).
  if (!known.includes(v))
    throw new PropsError('ERR_UNKNOWN_VERSION', {
      detail: `${field}=${Number.isSafeInteger(v) && Math.abs(v as number) < 1e6 ? String(v) : typeof v}`,
    });
}
