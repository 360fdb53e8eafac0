// Assembles the scoring service from an enclave and a store: the log, the app and the worker, with defaults for
// anything not injected. `props serve` and the tests both go through here.
import { createHash } from 'node:crypto';
import { PropsError, toHex, type Hex, type SignedTreeHead } from '../protocol/index.ts';
import { createScoringApp, DEFAULT_LIMITS, type Limits, type ServiceDeps, type ScoringService } from './api/index.ts';
import type { Enclave } from './boot.ts';
import { systemRandom } from './keys.ts';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { fleetLogs, openTransparencyLog, type TransparencyLog } from './log/index.ts';
import type { Store } from './store/index.ts';

/** The model and the data-owner boundary are always injected: there is no default scorer or ingest to fall back on. */
export type CreateServiceOptions = Partial<
  Omit<
    ServiceDeps,
    | 'enclave'
    | 'store'
    | 'log'
    | 'logs'
    | 'decryptionKey'
    | 'limits'
    | 'adminTokenHash'
    | 'scorer'
    | 'ingest'
    | 'verifyConsent'
  >
> &
  Pick<ServiceDeps, 'scorer' | 'ingest' | 'verifyConsent'> & {
    enclave: Enclave;
    store: Store;
    adminToken: string;
    limits?: Partial<Limits>;
    /**
     * The enclave key's last on-chain checkpoint (registry head), read at start. A local log shorter than it, or one
     * that disagrees with it at that size, means the host restored an older or forged state: the service refuses to start.
     */
    anchor?: () => Promise<Anchor | undefined>;
    /**
     * The KMS replicas that witness this log: the highest head they witnessed is checked at start as the anchor is,
     * and every head this instance signs is reported to them.
     */
    witness?: {
      head(logId: Hex): Promise<Anchor | undefined>;
      reporter(log: TransparencyLog): (head: SignedTreeHead) => void;
    };
  };

type Anchor = { treeSize: number; root: Hex };

/** A log shorter than a head it once had, or differing from it at that size: the host restored or forged state. */
function checkAnchor(log: TransparencyLog, anchored: Anchor | undefined, where: string): void {
  if (!anchored || anchored.treeSize === 0) return;
  if (anchored.treeSize > log.size())
    throw new PropsError('ERR_STATE_ROLLED_BACK', {
      detail: `local log ${log.size()} < ${where} ${anchored.treeSize}`,
    });
  if (log.rootAt(anchored.treeSize) !== anchored.root)
    throw new PropsError('ERR_STATE_FORKED', { detail: `at ${where} size ${anchored.treeSize}` });
}

/** Consent uses or borrower counts below the jobs they counted: those rows were restored from an older copy. */
async function checkCounters(store: Store, now: number, windowSeconds: number): Promise<void> {
  const behind = await store.countersBehindJobs(now, windowSeconds);
  if (behind.consents > 0 || behind.borrowers > 0)
    throw new PropsError('ERR_STATE_ROLLED_BACK', {
      detail: `${behind.consents} consent use counts and ${behind.borrowers} borrower counts behind their jobs`,
    });
}

export async function createService(
  opts: CreateServiceOptions,
): Promise<ScoringService & { deps: ServiceDeps; adminToken: string }> {
  const clock = opts.clock ?? (() => new Date());
  const random = opts.random ?? systemRandom;
  const { store, enclave } = opts;
  let report: ((head: SignedTreeHead) => void) | undefined;
  const log = await openTransparencyLog({
    store,
    enclave,
    clock,
    eagerHeads: store.shared || opts.witness !== undefined,
    onHead: (head) => report?.(head),
  });
  checkAnchor(log, opts.anchor ? await opts.anchor() : undefined, 'on-chain');
  if (opts.witness) {
    checkAnchor(log, await opts.witness.head(log.id), 'witnessed');
    report = opts.witness.reporter(log);
  }
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  await checkCounters(store, Math.floor(clock().getTime() / 1000), limits.borrowerWindowSeconds);
  // This boot's evidence is archived before any result names it: a bundle packs it after a restart or elsewhere.
  await store.putEvidence({
    digest: enclave.evidenceDigest,
    evidence: JSON.stringify(enclave.evidence),
    manifest: JSON.stringify(enclave.manifest),
    jwks: JSON.stringify(enclave.jwks),
    createdAt: Math.floor(clock().getTime() / 1000),
  });
  const deps: ServiceDeps = {
    enclave,
    store,
    log,
    logs: fleetLogs(store, log),
    decryptionKey: await calculateJwkThumbprint(enclave.keys.public.encryption as JWK),
    scorer: opts.scorer,
    ingest: opts.ingest,
    verifyConsent: opts.verifyConsent,
    clock,
    random,
    limits,
    adminTokenHash: toHex(createHash('sha256').update(opts.adminToken).digest()),
    nullifierKey: opts.nullifierKey ?? random(32),
    logger: opts.logger ?? ((e) => process.stderr.write(`${JSON.stringify(e)}\n`)),
    resultSigning: opts.resultSigning ?? 'each',
  };
  const svc = createScoringApp(deps);
  await svc.runner.resume();
  return { ...svc, deps, adminToken: opts.adminToken };
}
