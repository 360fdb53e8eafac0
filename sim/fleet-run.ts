// The fleet simulation's whole story (`props sim --fleet N`): the fleet started, borrowers enrolled, jobs sent to all
// instances with one killed mid-run, with fleet keys an upgrade mid-run, then every check on the API, the database and
// the audit bundles. The pieces are in sim/fleet.ts and sim/fleet-upgrade.ts.
import { createHash } from 'node:crypto';
import {
  accepted,
  awaitJobs,
  checkDatabase,
  createLenders,
  enrolBorrowers,
  expectedFrom,
  instanceName,
  planJobs,
  sendJobs,
  startFleet,
  verifyBundles,
  type DatabaseScope,
  type Fleet,
  type FleetCheck,
  type FleetOptions,
  type FleetSummary,
  type SendJobsResult,
} from './fleet.ts';
import { upgradeMidRun, type UpgradeReport } from './fleet-upgrade.ts';

/** The run's shape from the options: consent uses, each borrower's most jobs, the instance killed. */
function shapeOf(o: FleetOptions) {
  const jobsPerLender = o.jobsPerLender ?? 4 * o.borrowers;
  // With fleet keys, one more job per consent after the upgrade.
  const maxUses = Math.ceil(jobsPerLender / o.borrowers) + (o.kms ? 1 : 0);
  const victim = (createHash('sha256').update(o.seed).digest()[0] as number) % o.instances;
  return { jobsPerLender, maxUses, borrowerCap: o.borrowerCap ?? maxUses * o.lenders, victim };
}

export async function runFleet(o: FleetOptions): Promise<FleetSummary> {
  const t0 = performance.now();
  const checks: FleetCheck[] = [];
  const step = (name: string, ok: boolean, detail?: string) => {
    checks.push(detail === undefined ? { step: name, ok } : { step: name, ok, detail });
    o.log(`${ok ? '✓' : '✗'} ${name}${detail ? ` — ${detail}` : ''}`);
  };
  const shape = shapeOf(o);
  o.log(`starting ${o.instances} instances of props serve on one PostgreSQL database …`);
  const fleet = await startFleet({
    instances: o.instances,
    databaseUrl: o.databaseUrl,
    borrowerCap: shape.borrowerCap,
    accounts: o.borrowers,
    seed: o.seed,
    kms: o.kms === true,
    log: o.log,
  });
  try {
    const lenders = await createLenders(fleet, o.lenders);
    const borrowers = await enrolBorrowers(fleet, {
      accounts: Array.from({ length: o.borrowers }, (_, i) => i),
      lenders,
      maxUses: shape.maxUses,
    });
    step(
      'borrowers checked their instance and submitted there; consents granted through the others',
      true,
      `${borrowers.length} borrowers, ${lenders.length} lenders, up to ${shape.maxUses} uses each`,
    );
    const plans = planJobs(borrowers, lenders, shape.jobsPerLender, o.instances);
    const victim = instanceName(shape.victim);
    const logIdsBefore = await fleetLogIds(fleet);
    o.log(
      `sending ${plans.length} jobs to all ${o.instances} instances at once; ${victim} is killed (kill -9) once a third are answered …`,
    );
    if (o.kms) o.log('… and kms-1 is killed (kill -9) just before it, so its restart must get its keys from kms-2');
    const sent = await sendJobs(fleet, plans, {
      kill: { victim: shape.victim, afterAnswers: Math.ceil(plans.length / 3), ...(o.kms ? { kms: 0 } : {}) },
    });
    const restarted = await sent.restarted;
    step(
      o.kms
        ? `${victim} and kms-1 killed with requests in flight; ${victim} restarted with its seal and keys from kms-2`
        : `${victim} killed with requests in flight and restarted with its seal`,
      sent.restarted !== undefined && sent.inFlightAtKill > 0 && restarted?.logId === logIdsBefore[shape.victim],
      `${sent.inFlightAtKill} in flight at the kill`,
    );
    const unanswered = sent.answers.filter((a) => !accepted(a));
    const retried = sent.answers.filter((a) => a.attempts > 1).length;
    step(
      'every job accepted (lost connections retried under the same idempotency key)',
      unanswered.length === 0,
      `${retried} retried${unanswered.length ? `; refused: ${[...new Set(unanswered.map((a) => a.code))].join(', ')}` : ''}`,
    );
    const logNames: Array<[string, string]> = logIdsBefore.map((id, i) => [id, instanceName(i)]);
    let all = sent;
    if (o.kms) {
      const up = await upgradeMidRun(fleet, { databaseUrl: o.databaseUrl, borrowers, lenders });
      reportUpgrade(up, step);
      for (const inst of up.instances) logNames.push([inst.logId, inst.name]);
      all = { ...sent, answers: [...sent.answers, ...up.answers] };
    }
    const scope = {
      lenderIds: lenders.map((l) => l.lenderId),
      submissionIds: borrowers.map((b) => b.submissionId),
      logIds: logNames.map(([id]) => id),
    };
    return await concludeRun(o, fleet, all, scope, {
      checks,
      step,
      t0,
      victim,
      logIdsAtSubmission: logIdsBefore,
      logNames,
    });
  } finally {
    await fleet.close();
  }
}

async function fleetLogIds(fleet: Fleet): Promise<string[]> {
  return Promise.all(Array.from({ length: fleet.size }, async (_, i) => (await fleet.ready(i)).logId));
}

type Progress = {
  checks: FleetCheck[];
  step: (name: string, ok: boolean, detail?: string) => void;
  t0: number;
  victim: string;
  /** Each instance's log id when the borrowers submitted (before any upgrade). */
  logIdsAtSubmission: string[];
  /** Every log of the run (before and after an upgrade) and the instance that wrote it. */
  logNames: Array<[string, string]>;
};

/** The upgrade's checks: the new version serving everywhere, the old one refused, old submissions scored anew. */
function reportUpgrade(up: UpgradeReport, step: Progress['step']): void {
  step(
    'upgrade: pipeline v2 registered and approved for the app on chain; every instance replaced by a v2 instance',
    up.instances.every((i) => i.pipelineId === up.to) && up.to !== up.from,
    `${up.from.slice(0, 10)}… → ${up.to.slice(0, 10)}…, old instances drained`,
  );
  step(
    'the withdrawn v1 pipeline gets no keys: a v1 instance started after the withdrawal is refused',
    up.refused.includes('ERR_KMS_PIPELINE_NOT_APPROVED'),
    /ERR_[A-Z_]+/.exec(up.refused)?.[0] ?? up.refused.slice(-120),
  );
  const ok = up.answers.filter(accepted).length;
  step(
    'submissions accepted before the upgrade, scored by v2: every result names the new pipeline',
    ok === up.answers.length && up.resultsNamingNew === ok,
    `${up.resultsNamingNew} of ${up.answers.length} jobs`,
  );
}

/** After the jobs: each read back through the API and in the database, each bundle verified; the summary. */
async function concludeRun(
  o: FleetOptions,
  fleet: Fleet,
  sent: SendJobsResult,
  scope: DatabaseScope,
  p: Progress,
): Promise<FleetSummary> {
  const { step } = p;
  const states = await awaitJobs(fleet, sent.answers);
  const done = [...states.values()].filter((s) => s.state === 'done');
  step(
    'every job done (GET /v1/jobs/{id})',
    done.length === sent.answers.length,
    `${done.length} of ${sent.answers.length}`,
  );
  const expected = expectedFrom(sent.answers);
  const db = await checkDatabase(o.databaseUrl, expected, scope);
  const jobs = sent.answers.length;
  const exactlyOnce =
    db.jobs === jobs &&
    db.done === jobs &&
    db.results === jobs &&
    db.distinctResultJobs === jobs &&
    db.jobsNamingTheirResult === jobs;
  step(
    'database: one job row and one result per job, each naming its own log entry',
    exactlyOnce,
    `jobs ${db.jobs}, done ${db.done}, results ${db.results} (${db.distinctResultJobs} distinct jobs)`,
  );
  const logIds = p.logIdsAtSubmission;
  const scoredBy = Object.fromEntries(
    p.logNames.map(([id, name]) => [name, db.logs.find((l) => l.logId === id)?.count ?? 0]),
  );
  step(
    "database: each instance's log indices contiguous from 0",
    db.logsContiguous,
    Object.entries(scoredBy)
      .map(([name, n]) => `${name}: 0..${n - 1}`)
      .join(', '),
  );
  step(
    'database: every signed head of every log is a prefix of its log (pre-kill heads too)',
    db.headsConsistent && db.heads > 0,
    `${db.heads} heads`,
  );
  step(
    'database: consent uses exact and within max_uses',
    db.consentUsesExact && db.consentWithinMax,
    db.mismatches.filter((m) => m.startsWith('consent'))[0],
  );
  step(
    'database: borrower query counts exact',
    db.borrowerCountsExact,
    db.mismatches.filter((m) => m.startsWith('borrower'))[0],
  );
  const crossInstance = sent.answers.filter(
    (a) => accepted(a) && states.get(a.jobId)?.logId !== undefined && states.get(a.jobId)?.logId !== logIds[a.plan.via],
  ).length;
  if (o.kms) {
    // Fleet keys: every instance opens every submission, so whichever claims a job scores it.
    const elsewhere = sent.answers.filter(
      (a) => accepted(a) && states.get(a.jobId)?.logId !== logIds[a.plan.scoredBy],
    ).length;
    step(
      'submissions encrypted to the fleet key, scored by whichever instance claimed them',
      done.length === jobs && elsewhere > 0,
      `${elsewhere} scored by an instance other than the one the borrower checked and submitted to`,
    );
  } else
    step(
      'jobs scored by the instance that can decrypt them',
      sent.answers.every((a) => !accepted(a) || states.get(a.jobId)?.logId === logIds[a.plan.scoredBy]),
      `${crossInstance} accepted on one instance, scored by another`,
    );
  const bundles = await verifyBundles(fleet, sent.answers);
  step(
    'every audit bundle verifies (fetched from a random instance)',
    bundles.verified === bundles.bundles && bundles.bundles === jobs,
    bundles.failures[0] ??
      `${bundles.verified}/${bundles.bundles}, pre-kill ${bundles.preKillVerified}/${bundles.preKill}`,
  );
  const lost = Math.max(0, jobs - Math.min(done.length, db.done));
  // Two requests answered with one job id would be one job counted for two.
  const duplicated =
    Math.max(0, db.jobs - jobs) +
    Math.max(0, db.results - db.distinctResultJobs) +
    (sent.answers.filter(accepted).length - expected.jobs);
  return {
    ok: p.checks.every((c) => c.ok) && lost === 0 && duplicated === 0,
    instances: o.instances,
    keys: o.kms ? 'kms' : 'fleet-seed',
    killed: 1,
    killedInstance: p.victim,
    inFlightAtKill: sent.inFlightAtKill,
    scoredBy,
    jobs,
    crossInstance,
    lost,
    duplicated,
    bundles: bundles.bundles,
    bundlesVerified: bundles.verified,
    preKillBundles: bundles.preKill,
    preKillBundlesVerified: bundles.preKillVerified,
    consentUsesExact: db.consentUsesExact && db.consentWithinMax,
    borrowerCountsExact: db.borrowerCountsExact,
    checks: p.checks,
    seconds: Math.round((performance.now() - p.t0) / 100) / 10,
  };
}
