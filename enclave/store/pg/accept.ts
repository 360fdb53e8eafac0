// Job acceptance in the shared store, group-committed: the acceptances requested within one event-loop turn go to
// the database as one call of props_accept_jobs (one statement, its own transaction), which answers each in arrival
// order as if they had run one by one; each caller hears back after the commit that made its job durable, or with
// its own refusal.
import { isErrorCode, PropsError } from '../../../protocol/index.ts';
import type { AcceptJobInput, AcceptJobOutcome, Store } from '../types.ts';
import type { PgContext } from './context.ts';
import { acceptInputJson, jobFromJson } from './rows.ts';
import { Q } from './statements.ts';

/**
 * A turn's acceptances past this many go out as several calls, side by side on the pool's connections: a call holds
 * the rows it touched (consents, borrowers) until it commits, so one long call would hold back every other
 * instance's acceptances on them.
 */
const ACCEPT_CALL_MAX = 64;

type PendingAccept = { input: AcceptJobInput; resolve: (o: AcceptJobOutcome) => void; reject: (e: unknown) => void };
type AcceptRow = { code: string | null; created: boolean; job: Record<string, unknown> | null };

/** One call of props_accept_jobs for `group`, answering each of its callers. */
async function acceptCall({ run, retrying, fail }: PgContext, group: PendingAccept[]): Promise<void> {
  let rows: AcceptRow[];
  try {
    rows = await retrying(() =>
      run<AcceptRow>(Q.acceptJobs, [JSON.stringify(group.map((a) => acceptInputJson(a.input)))]),
    );
    if (rows.length !== group.length)
      throw new PropsError('ERR_STORE_FAILED', { detail: 'acceptance outcomes do not match inputs' });
  } catch (e) {
    for (const a of group) a.reject(fail(e));
    return;
  }
  group.forEach((a, i) => {
    const row = rows[i] as AcceptRow;
    if (row.code !== null) a.reject(new PropsError(isErrorCode(row.code) ? row.code : 'ERR_STORE_FAILED'));
    else if (row.created) a.resolve({ job: a.input.job, created: true });
    else a.resolve({ job: jobFromJson(row.job ?? {}), created: false });
  });
}

export function pgAcceptance(ctx: PgContext): Pick<Store, 'acceptJob'> {
  let pendingAccepts: PendingAccept[] = [];
  const flushAccepts = () => {
    const group = pendingAccepts;
    pendingAccepts = [];
    for (let i = 0; i < group.length; i += ACCEPT_CALL_MAX)
      ctx.track(acceptCall(ctx, group.slice(i, i + ACCEPT_CALL_MAX)));
  };
  return {
    acceptJob(input) {
      return new Promise((resolve, reject) => {
        if (pendingAccepts.push({ input, resolve, reject }) === 1) setImmediate(flushAccepts);
      });
    },
  };
}
