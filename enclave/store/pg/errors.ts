// How the PostgreSQL store reports what the database did: a lost or refused connection is ERR_STORE_UNAVAILABLE (the
// driver reconnects by itself, so a later call may succeed), carrying a copy of the driver's error from which the
// URL's password is removed; the store's URL is never part of a message, detail or cause. drizzle's query errors
// are unwrapped: their message lists the statement's parameters (ciphertexts, keys' hashes).
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { PropsError } from '../../../protocol/index.ts';

/** SQLSTATEs and driver codes that mean the connection, not the statement, failed. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown (pg_terminate_backend, a fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '55000', // at connect: the database is not accepting connections (ALLOW_CONNECTIONS false)
  '53300', // too_many_connections
  '3D000', // the database does not exist (dropped while serving)
  '28000', // invalid_authorization_specification (no pg_hba entry)
  '28P01', // invalid_password
]);

/** Statement failures that a retry of the whole transaction resolves (a deadlock between instances' batches). */
const RETRIABLE_CODES = new Set(['40P01', '40001']);

/** The driver's error inside drizzle's wrapper (whose message carries the parameters), else the error itself. */
export const unwrap = (e: unknown): unknown => (e instanceof DrizzleQueryError && e.cause !== undefined ? e.cause : e);

const codeOf = (e: unknown): string | undefined => {
  const code = (unwrap(e) as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

export function isConnectionError(e: unknown): boolean {
  const code = codeOf(e);
  // Class 08: connection exception.
  return code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith('08'));
}

export const isRetriable = (e: unknown): boolean => RETRIABLE_CODES.has(codeOf(e) ?? '');

/** The SQLSTATE of a statement the database refused (the driver's PostgresError), if it was one. */
export const sqlState = (e: unknown): string | undefined => {
  const inner = unwrap(e);
  return inner instanceof Error && inner.name === 'PostgresError' ? codeOf(inner) : undefined;
};

/** Removes every occurrence of each secret from a text. */
const scrub = (text: string, secrets: readonly string[]): string =>
  secrets.reduce((s, secret) => (secret.length > 0 ? s.split(secret).join('[redacted]') : s), text);

/**
 * A plain copy of a driver error that is safe to keep as a cause: its code and its message with the secrets removed,
 * and none of the driver's other fields (a query's parameters among them).
 */
export function safeCause(wrapped: unknown, secrets: readonly string[]): Error {
  const e = unwrap(wrapped);
  const message = e instanceof Error ? e.message : String(e);
  const copy = new Error(scrub(message, secrets));
  const code = codeOf(e);
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}

export function unavailable(e: unknown, secrets: readonly string[]): PropsError {
  const code = codeOf(e);
  return new PropsError('ERR_STORE_UNAVAILABLE', {
    ...(code ? { detail: scrub(code, secrets) } : {}),
    cause: safeCause(e, secrets),
  });
}

/**
 * A connection failure as ERR_STORE_UNAVAILABLE; a statement the database refused as ERR_STORE_FAILED with its
 * SQLSTATE (the driver's error carries the row's values in its detail, and keeps them out of the copy); anything
 * else (our own errors) as it was thrown.
 */
export function storeError(e: unknown, secrets: readonly string[]): unknown {
  const inner = unwrap(e);
  if (isConnectionError(inner)) return unavailable(inner, secrets);
  const state = sqlState(inner);
  if (state !== undefined)
    return new PropsError('ERR_STORE_FAILED', { detail: state, cause: safeCause(inner, secrets) });
  return inner;
}

/** The secrets of a database URL that no error may repeat: its password, raw and decoded, and the URL itself. */
export function urlSecrets(url: string): string[] {
  const secrets = [url];
  try {
    const { password } = new URL(url);
    if (password) {
      secrets.push(password);
      try {
        secrets.push(decodeURIComponent(password));
      } catch {
        // a malformed escape: the raw form is already listed
      }
    }
  } catch {
    // not a URL: only the whole text is secret
  }
  // Longest first, so that a secret containing another is removed whole.
  return secrets.sort((a, b) => b.length - a.length);
}
