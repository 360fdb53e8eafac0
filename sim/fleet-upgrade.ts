// An upgrade mid-run, as governance and an operator do it: a new pipeline version (a new pipeline policy, so a new
// pipeline id) is registered and approved for the same app; each instance is replaced by one running it (the new one
// first, then the old one stopped); the old version is withdrawn, after which an instance of it gets no keys. Jobs
// then sent over the borrowers' earlier submissions are scored by the new code, under the new pipeline id.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { loadPipelinePolicy } from '../enclave/index.ts';
import type { Hex } from '../protocol/index.ts';
import {
  accepted,
  jobPlan,
  sendJobs,
  type EnrolledBorrower,
  type Fleet,
  type Instance,
  type JobAnswer,
  type Lender,
} from './fleet.ts';

export type UpgradeReport = {
  from: Hex;
  to: Hex;
  instances: Instance[];
  /** The old version's instance after the withdrawal: how it failed to start. */
  refused: string;
  answers: JobAnswer[];
  /** Results of the jobs sent after the upgrade that name the new pipeline. */
  resultsNamingNew: number;
};

export async function upgradeMidRun(
  fleet: Fleet,
  o: { databaseUrl: string; borrowers: readonly EnrolledBorrower[]; lenders: readonly Lender[] },
): Promise<UpgradeReport> {
  const gov = fleet.governance;
  if (!gov) throw new Error('an upgrade needs the fleet keys (--kms)');
  const from = (await fleet.ready(0)).pipelineId as Hex;
  const file = join(fleet.dir, 'pipeline-policy-v2.json');
  writeFileSync(file, JSON.stringify({ ...loadPipelinePolicy(), id: 'props-credit-pipeline@2' }));
  const to = await gov.approve(file);
  const instances: Instance[] = [];
  for (let i = 0; i < fleet.size; i++)
    instances.push(
      await fleet.upgrade(i, { pipelinePolicy: file, seal: `instance-${i + 1}-v2`, label: `instance-${i + 1} v2` }),
    );
  await gov.withdraw(from);
  const late = await fleet.startRefused({ seal: 'instance-late-v1', label: 'a late v1 instance' });
  // One more job per borrower and lender, over the submissions accepted before the upgrade.
  const plans = o.borrowers.flatMap((b) =>
    o.lenders.map((l) => jobPlan(l, b, l.index, (b.account + l.index) % fleet.size)),
  );
  const sent = await sendJobs(fleet, plans);
  const jobIds = sent.answers.filter(accepted).map((a) => a.jobId);
  return {
    from,
    to,
    instances,
    refused: late.lastLine,
    // Sent after the kill: none of them counts as scored before it.
    answers: sent.answers.map((a) => ({ ...a, doneBeforeKill: false })),
    resultsNamingNew: await namingPipeline(o.databaseUrl, jobIds, to),
  };
}

/** The signed statement of a stored result: inline in a batched result, else the JWS payload. */
function statementOf(attestation: string): { pipelineId?: string } {
  const a = JSON.parse(attestation) as { jws?: string; body?: { pipelineId?: string } };
  if (a.body) return a.body;
  return JSON.parse(Buffer.from((a.jws ?? '').split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    pipelineId?: string;
  };
}

/** How many of these jobs' stored results (once done) name `pipelineId` in their signed statement. */
async function namingPipeline(databaseUrl: string, jobIds: string[], pipelineId: Hex): Promise<number> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    for (let wait = 0; wait < 300; wait++) {
      const [row] = await sql<{ n: number }[]>`SELECT count(*)::int n FROM results WHERE job_id IN ${sql(jobIds)}`;
      if ((row?.n ?? 0) >= jobIds.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const rows = await sql<{ attestation: string }[]>`SELECT attestation FROM results WHERE job_id IN ${sql(jobIds)}`;
    return rows.filter((r) => statementOf(r.attestation).pipelineId === pipelineId).length;
  } finally {
    await sql.end({ timeout: 1 });
  }
}
