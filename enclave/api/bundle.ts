// A finished job's audit bundle, whichever boot or instance scored it: the archived evidence its result names, and
// its inclusion proof in its log under that log's latest signed head.
import {
  BATCHED_RESULT_KIND,
  parseJsonText,
  PropsError,
  type AuditBundle,
  type BatchedResult,
  type ResultAttestation,
} from '../../protocol/index.ts';
import { resultBodyOfJws } from '../../verifier/index.ts';
import { buildAuditBundle, type BootRecord } from '../bundle.ts';
import type { JobRow } from '../store/index.ts';
import type { ServiceDeps } from './deps.ts';
import type { JobResult } from './job-view.ts';

const evidenceDigestOf = (a: ResultAttestation | BatchedResult): string =>
  'kind' in a && a.kind === BATCHED_RESULT_KIND
    ? a.body.evidenceDigest
    : resultBodyOfJws((a as ResultAttestation).jws).evidenceDigest;

async function bootOf(deps: ServiceDeps, digest: string): Promise<BootRecord> {
  if (digest === deps.enclave.evidenceDigest) return deps.enclave;
  const row = await deps.store.getEvidence(digest);
  if (!row) throw new PropsError('ERR_EVIDENCE_NOT_FOUND');
  // The archive is the host's database: whatever it holds, `props verify` checks the evidence and every binding.
  return {
    evidence: parseJsonText(row.evidence, 1 << 22),
    manifest: parseJsonText(row.manifest, 1 << 16),
    jwks: parseJsonText(row.jwks, 1 << 16),
  } as BootRecord;
}

export async function jobBundle(deps: ServiceDeps, job: JobRow, result: JobResult): Promise<AuditBundle> {
  const attestation = JSON.parse(result.attestation) as ResultAttestation | BatchedResult;
  const boot = await bootOf(deps, evidenceDigestOf(attestation));
  const log = await deps.logs.view(result.logId);
  const head = await log.head();
  // Another instance's log: its owner signs heads as it appends; one not covering this result yet is moments away.
  if (!head || head.treeSize <= result.logIndex) throw new PropsError('ERR_LOG_HEAD_PENDING');
  const inclusion = log.inclusion(result.logIndex, head.treeSize);
  const bundle = buildAuditBundle(
    boot,
    [{ request: { requestId: job.requestId, nonce: job.nonce }, attestation }],
    deps.clock(),
  );
  bundle.logProofs.push({
    type: 'props-log-inclusion',
    v: 1,
    requestId: job.requestId,
    ...inclusion,
    signedTreeHead: head,
  });
  return bundle;
}
