// `props sim` (what `npm start` runs): the whole pipeline on one machine, step by step, then a summary table.
// `--json` prints the same summary as one JSON object (progress goes to stderr). Exit 0 only when every check held.
// `--fleet N` runs the service as N `props serve` processes on one PostgreSQL database instead (sim/fleet-run.ts).
import { parseArgs } from 'node:util';
import type { Command } from '../protocol/index.ts';
import { runSimulation, type SimSummary } from './run.ts';
import { runAttacks } from './attacks.ts';
import type { FleetSummary } from './fleet.ts';

const USAGE = `usage: props sim [--attacks] [--borrowers N] [--lenders N] [--out DIR] [--seed S] [--threshold T] [--json]
       props sim --fleet N --database-url URL [--kms] [--borrowers N] [--lenders N] [--seed S] [--json]
  --fleet N           N props serve processes (2..16) sharing one PostgreSQL database; one is killed (kill -9)
                      mid-run and restarted, then exactly-once, caps and every audit bundle are checked
  --kms               fleet keys from two props kms replicas (one killed mid-run) instead of a fleet seed file
  --database-url URL  the PostgreSQL database for --fleet (also PROPS_DATABASE_URL)`;

export const simCommand: Command = {
  summary: 'run the whole protected pipeline on this machine (npm start)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        borrowers: { type: 'string', default: '20' },
        lenders: { type: 'string', default: '3' },
        out: { type: 'string', default: 'props-out' },
        seed: { type: 'string', default: 'props-sim' },
        threshold: { type: 'string', default: '600' },
        json: { type: 'boolean' },
        attacks: { type: 'boolean' },
        fleet: { type: 'string' },
        'database-url': { type: 'string' },
        kms: { type: 'boolean' },
      },
    });
    const borrowers = int(values.borrowers, 1, 10_000);
    const lenders = int(values.lenders, 1, 50);
    const threshold = int(values.threshold, 0, 1000);
    if (borrowers === undefined || lenders === undefined || threshold === undefined) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    const json = values.json ?? false;
    const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
    if (values.fleet !== undefined || values['database-url'] !== undefined) {
      const fleet = values.fleet === undefined ? undefined : int(values.fleet, 2, 16);
      const databaseUrl = values['database-url'] ?? process.env.PROPS_DATABASE_URL;
      if (fleet === undefined || databaseUrl === undefined || values.attacks) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
      }
      const kms = values.kms === true;
      return fleetRun({ instances: fleet, databaseUrl, borrowers, lenders, seed: values.seed, kms, json, log });
    }
    if (values.attacks) {
      log('Props attack catalogue — every scenario must be rejected at its layer with its code, leaving no trace.');
      const r = await runAttacks({ log, threshold });
      if (json)
        process.stdout.write(
          `${JSON.stringify({ ok: r.ok, attacks: r.attacks.map(({ name, rejected, layer, code, expected, traceFree }) => ({ name, rejected, layer, code, expected, traceFree })) })}\n`,
        );
      else {
        const n = r.attacks.filter((a) => a.ok).length;
        process.stdout.write(
          `\n${n} of ${r.attacks.length} attacks rejected for the stated reason, leaving no trace${r.ok ? '' : ' — SOME FAILED'}\n`,
        );
      }
      return r.ok ? 0 : 1;
    }
    log('Props simulation — SIMULATED attestation (platform "sim"): proves the protocol, not the hardware.');
    const s = await runSimulation({ borrowers, lenders, outDir: values.out, seed: values.seed, threshold, log });
    if (json) process.stdout.write(`${JSON.stringify(s)}\n`);
    else process.stdout.write(table(s));
    return s.ok ? 0 : 1;
  },
};

const int = (s: string, min: number, max: number) => {
  const n = Number(s);
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
};

/** `props sim --fleet N`: the database is opened once first, so an unreachable one is a usage-level error (exit 2). */
async function fleetRun(o: {
  instances: number;
  databaseUrl: string;
  borrowers: number;
  lenders: number;
  seed: string;
  kms: boolean;
  json: boolean;
  log: (line: string) => void;
}): Promise<number> {
  // ERR_STORE_UNAVAILABLE (or ERR_STORE_URL_INVALID) propagates: the dispatcher prints its code and exits 2.
  const { openPostgresStore } = await import('../enclave/store/index.ts');
  const store = await openPostgresStore(o.databaseUrl);
  await store.close();
  const { runFleet } = await import('./fleet-run.ts');
  o.log(
    `Props fleet simulation — ${o.instances} props serve processes on one PostgreSQL database${o.kms ? ', fleet keys from 2 props kms replicas' : ''}; SIMULATED attestation (platform "sim").`,
  );
  const s = await runFleet({
    instances: o.instances,
    databaseUrl: o.databaseUrl,
    borrowers: o.borrowers,
    lenders: o.lenders,
    seed: o.seed,
    kms: o.kms,
    log: o.log,
  });
  if (o.json) {
    const { ok, instances, killed, scoredBy, bundlesVerified, bundles, ...rest } = s;
    process.stdout.write(
      `${JSON.stringify({ ok, fleet: { instances, killed, scoredBy, bundlesVerified, bundles }, ...rest })}\n`,
    );
  } else process.stdout.write(fleetTable(s));
  return s.ok ? 0 : 1;
}

function fleetTable(s: FleetSummary): string {
  const held = (b: boolean) => (b ? 'yes' : 'NO');
  return boxed([
    ['instances', `${s.instances} (props serve, one PostgreSQL database)`],
    [
      'keys',
      s.keys === 'kms' ? 'fleet keys from 2 props kms replicas (kms-1 killed with the instance)' : 'fleet seed file',
    ],
    ['killed', `${s.killed} (${s.killedInstance}, kill -9 with ${s.inFlightAtKill} in flight; restarted)`],
    ...Object.entries(s.scoredBy).map(([name, n]): [string, string] => [`  scored by ${name}`, String(n)]),
    ['jobs', `${s.jobs} (${s.crossInstance} accepted by one, scored by another)`],
    ['lost', String(s.lost)],
    ['duplicated', String(s.duplicated)],
    [
      'bundles verified',
      `${s.bundlesVerified}/${s.bundles} (incl. pre-kill ${s.preKillBundlesVerified}/${s.preKillBundles})`,
    ],
    ['consent uses exact', held(s.consentUsesExact)],
    ['borrower counts exact', held(s.borrowerCountsExact)],
    ['time', `${s.seconds} s`],
    ['result', s.ok ? 'ALL CHECKS HELD' : 'SOME CHECKS FAILED'],
  ]);
}

function table(s: SimSummary): string {
  const rows: [string, string][] = [
    ['borrowers', String(s.borrowers)],
    ['scored', String(s.scored)],
    ['approved / declined', `${s.approved} / ${s.declined}`],
    ['results verified', String(s.verified)],
    ['paid (released)', `${s.paid} (${s.paidAmount} token units)`],
    ['  by signature / by log proof', `${s.paidBySignature} / ${s.paidByInclusionProof}`],
    ['refunded', String(s.refunded)],
    ['gas: register key (3-of-5)', String(s.gas.registerKey)],
    ['gas: per released payment', String(s.gas.releasePerPayment)],
    ['gas: refund', String(s.gas.refund)],
    ['audit bundle', `${s.auditBundle} (${s.auditOk ? 'verified' : 'FAILED'})`],
    ['time', `${s.seconds} s`],
    ['result', s.ok ? 'ALL CHECKS HELD' : 'SOME CHECKS FAILED'],
  ];
  return boxed(rows);
}

function boxed(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  const vw = Math.max(42, ...rows.map(([, v]) => v.length));
  const line = `+${'-'.repeat(w + 2)}+${'-'.repeat(vw + 2)}+`;
  return `\n${line}\n${rows.map(([k, v]) => `| ${k.padEnd(w)} | ${v.padEnd(vw)} |`).join('\n')}\n${line}\n`;
}
