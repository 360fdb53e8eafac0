// The auditor's half of the simulation: the audit bundle with each result's log proof, the transparency log checked
// against the chain, and a scan of the service's database for any record kept in the clear.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, verifyConsistency, verifyInclusion, type AuditBundle, type Hex } from '../protocol/index.ts';
import { buildAuditBundle } from '../enclave/index.ts';
import { resultBodyOfJws, resultLeafHash, verifyBundle } from '../verifier/index.ts';
import type { Borrower } from './bank/generator.ts';
import type { Step } from './run-checks.ts';
import type { Checkpoint, ResultLog } from './run-log.ts';
import type { VerifiedResult } from './run-pay.ts';
import type { World } from './world.ts';

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;

/** Writes the audit bundle and the lenders' policy to `outDir`, then verifies the bundle as the auditor would. */
export async function auditBundle(p: {
  w: World;
  serviceUrl: string;
  results: VerifiedResult[];
  outDir: string;
  step: Step;
}): Promise<{ bundlePath: string; auditOk: boolean }> {
  const bundle = buildAuditBundle(p.w.enclave, p.results, new Date());
  await attachLogProofs(bundle, p.serviceUrl, p.results);
  const bundlePath = join(p.outDir, 'bundle.json');
  writeFileSync(bundlePath, `${JSON.stringify(bundle, null, 2)}\n`);
  writeFileSync(join(p.outDir, 'policy.json'), `${JSON.stringify(p.w.lenderPolicy, null, 2)}\n`);
  const audit = await verifyBundle(bundle, { policy: p.w.lenderPolicy, now: new Date() });
  p.step(
    'auditor verified the audit bundle',
    audit.ok,
    `${audit.checks.length} checks, EAR ${audit.ear.submods['props-enclave']?.['ear.status']} (simulated hardware)`,
  );
  return { bundlePath, auditOk: audit.ok };
}

/** Each result's log inclusion proof under the service's current signed tree head: `props verify` checks them. */
async function attachLogProofs(bundle: AuditBundle, serviceUrl: string, results: VerifiedResult[]): Promise<void> {
  const sth = await getJson<{ treeSize: number }>(`${serviceUrl}/v1/log/head`);
  for (const [i, r] of results.entries()) {
    const inc = await getJson<Record<string, unknown>>(
      `${serviceUrl}/v1/log/inclusion?index=${i}&treeSize=${sth.treeSize}`,
    );
    bundle.logProofs.push({
      type: 'props-log-inclusion',
      v: 1,
      requestId: r.request.requestId,
      ...inc,
      signedTreeHead: sth,
    });
  }
}

/** The auditor checks the transparency log: every result included, the checkpoints consistent, the head on chain. */
export async function auditTransparencyLog(p: {
  w: World;
  serviceUrl: string;
  results: VerifiedResult[];
  log: ResultLog;
  step: Step;
}): Promise<void> {
  const { checkpoints } = p.log;
  const head = checkpoints[checkpoints.length - 1]!;
  // Proofs come from the service's log API; the auditor recomputes every leaf from the results themselves.
  const auditLeaves = p.results.map((r) => resultLeafHash(resultBodyOfJws(r.attestation.jws)));
  const included = await allIncluded(p.serviceUrl, auditLeaves, head);
  const consistent = await checkpointsConsistent(p.serviceUrl, checkpoints, head);
  const onChain = await p.w.gov.getHead(p.log.keyId);
  const anchored = onChain.treeSize === BigInt(head.treeSize) && onChain.root === head.root;
  p.step(
    'auditor verified the transparency log',
    included && consistent && anchored,
    `${auditLeaves.length} results included; checkpoints ${checkpoints.map((c) => c.treeSize).join(' → ')} consistent; on-chain head = size ${onChain.treeSize}`,
  );
}

async function allIncluded(serviceUrl: string, leaves: Uint8Array[], head: Checkpoint): Promise<boolean> {
  let included = true;
  for (const [i, leaf] of leaves.entries()) {
    const p = await getJson<{ proof: Hex[] }>(`${serviceUrl}/v1/log/inclusion?index=${i}&treeSize=${head.treeSize}`);
    included &&= verifyInclusion(
      leaf,
      i,
      head.treeSize,
      p.proof.map((x) => fromHex(x, 32)),
      fromHex(head.root, 32),
    );
  }
  return included;
}

async function checkpointsConsistent(
  serviceUrl: string,
  checkpoints: Checkpoint[],
  head: Checkpoint,
): Promise<boolean> {
  const first = checkpoints[0]!;
  const cons = await getJson<{ proof: Hex[] }>(
    `${serviceUrl}/v1/log/consistency?oldSize=${first.treeSize}&newSize=${head.treeSize}`,
  );
  return (
    checkpoints.length < 2 ||
    verifyConsistency(
      first.treeSize,
      head.treeSize,
      fromHex(first.root, 32),
      fromHex(head.root, 32),
      cons.proof.map((x) => fromHex(x, 32)),
    )
  );
}

/**
 * Records never reach the host's database in the clear: scan the SQLite files for every borrower's account id and
 * transaction descriptions (ciphertexts only are stored, and deleted by the retention policy). Run after the service
 * has closed its database.
 */
export function checkNoRecordInClear(dbPath: string, borrowers: readonly Borrower[], step: Step): void {
  const dbBytes = [dbPath, `${dbPath}-wal`]
    .map((f) => (existsSync(f) ? readFileSync(f).toString('latin1') : ''))
    .join('');
  const needles = borrowers
    .flatMap((b) => [b.statement.accountId, ...new Set(b.statement.transactions.map((t) => t.description))])
    .filter((n) => n.length >= 8);
  const leaked = needles.filter((n) => dbBytes.includes(n));
  step(
    'no record in the clear in the service database',
    leaked.length === 0,
    `${needles.length} record values searched in ${dbPath}: ${leaked.length} found`,
  );
}
