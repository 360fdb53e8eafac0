// The counters a host could roll back on their own, checked against the jobs they counted: a consent whose use count
// is below its jobs, a borrower whose count in the current window is below its jobs since that window began (or who
// has no count while jobs of theirs lie within the window). Counts only grow with jobs and job rows are kept, so any
// of these means the rows were restored from an older copy while the jobs (and the log) were kept. One statement,
// the same text for both stores (drizzle renders the parameters for each dialect).
import { sql, type SQL } from 'drizzle-orm';

export type CountersBehind = { consents: number; borrowers: number };

export function countersBehindQuery(now: number, windowSeconds: number): SQL {
  return sql`SELECT
    (SELECT count(*) FROM consents c
       JOIN (SELECT consent_id, count(*) AS n FROM jobs GROUP BY consent_id) j ON j.consent_id = c.id
     WHERE c.uses < j.n) AS consents,
    (SELECT count(*) FROM (
       SELECT s.nullifier, count(*) AS n, max(b.count) AS counted
       FROM jobs jb
       JOIN submissions s ON s.id = jb.submission_id
       LEFT JOIN borrower_queries b ON b.nullifier = s.nullifier
       WHERE jb.created_at > ${now - windowSeconds} AND (b.nullifier IS NULL OR jb.created_at >= b.window_start)
       GROUP BY s.nullifier) x
     WHERE x.counted IS NULL OR x.counted < x.n) AS borrowers`;
}

export const countersBehindOf = (row: { consents: unknown; borrowers: unknown } | undefined): CountersBehind => ({
  consents: Number(row?.consents ?? 0),
  borrowers: Number(row?.borrowers ?? 0),
});
