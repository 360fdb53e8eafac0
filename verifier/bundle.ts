// verifyBundle: everything an auditor checks offline — the evidence, its manifest, the JWKS, every result (each once),
// and each result's log inclusion proof under its signed tree head (required unless the policy relaxes it).
import {
  canonicalJson,
  parseAuditBundle,
  type AuditBundle,
  type Evidence,
  type ResultBody,
} from '../protocol/index.ts';
import { fail, pass, type Check } from './checks.ts';
import { buildEar, type Ear } from './ear.ts';
import { failFrom, verifyEvidence, type VerifyEvidenceOptions } from './evidence.ts';
import { verifyBundleLogProof } from './log.ts';
import { verificationTime } from './now.ts';
import type { Policy } from './policy.ts';
import { verifyResult, type NonceStore } from './result.ts';

export type BundleReport = { ok: boolean; simulated: boolean; checks: Check[]; ear: Ear };

export type VerifyBundleOptions = Omit<VerifyEvidenceOptions, 'manifest'> & { nonceStore?: NonceStore };

export async function verifyBundle(input: unknown, opts: VerifyBundleOptions): Promise<BundleReport> {
  verificationTime(opts.now);
  const checks: Check[] = [];
  let bundle: AuditBundle | undefined;
  try {
    bundle = parseAuditBundle(input);
    checks.push(pass('bundle.format', `${bundle.results.length} result(s)`));
  } catch (e) {
    checks.push(failFrom('bundle.format', e, 'ERR_BUNDLE_MALFORMED'));
  }
  let simulated = false;
  // Nonces are staged (a replay within the bundle is still refused) and spent only once the whole bundle has
  // verified: a bundle refused for anything else leaves a later genuine delivery of its results acceptable.
  const store = opts.nonceStore;
  const staged = new Set<string>();
  const nonceStore: NonceStore | undefined = store && {
    has: async (n) => staged.has(n) || (await store.has(n)),
    add: (n) => void staged.add(n),
  };
  if (bundle) {
    const ev = await verifyEvidence(bundle.evidence, { ...opts, manifest: bundle.manifest });
    simulated = ev.simulated;
    checks.push(...ev.checks);
    const jwksOk =
      bundle.jwks.keys.length === 1 && canonicalJson(bundle.jwks.keys[0]) === canonicalJson(bundle.evidence.keys.jws);
    checks.push(
      jwksOk
        ? pass('bundle.jwks', 'JWKS is the evidence-bound JWS key')
        : fail('bundle.jwks', 'ERR_RESULT_KEY_NOT_BOUND'),
    );
    if (bundle.platform !== bundle.evidence.platform)
      checks.push(fail('bundle.platform', 'ERR_BUNDLE_MALFORMED', 'platform label'));
    if (ev.ok && ev.manifest && ev.evidence && ev.evidenceDigest) {
      const verified = new Map<string, { index: number; body: ResultBody }>();
      const firstAt = new Map<string, number>();
      for (const [i, r] of bundle.results.entries()) {
        // One result, one place: a result repeated would count twice for whoever tallies the bundle.
        const first = firstAt.get(r.request.requestId);
        if (first !== undefined) {
          checks.push(fail(`results[${i}]`, 'ERR_BUNDLE_DUPLICATE_RESULT', `same requestId as results[${first}]`));
          continue;
        }
        firstAt.set(r.request.requestId, i);
        const rep = await verifyResult(r.attestation, {
          evidence: ev.evidence,
          evidenceDigest: ev.evidenceDigest,
          manifest: ev.manifest,
          policy: opts.policy,
          now: opts.now,
          expected: r.request,
          ...(nonceStore ? { nonceStore } : {}),
        });
        checks.push(...rep.checks.map((c) => ({ ...c, id: `results[${i}].${c.id}` })));
        if (rep.ok && rep.body) verified.set(rep.body.requestId, { index: i, body: rep.body });
      }
      checks.push(...(await logInclusionChecks(bundle, verified, ev.evidence.keys, opts.policy)));
    } else if (bundle.results.length > 0 || bundle.logProofs.length > 0) {
      checks.push(fail('results', 'ERR_RESULT_EVIDENCE_MISMATCH', 'evidence did not verify, so no result can'));
    }
  }
  const ok = checks.length > 0 && checks.every((c) => c.ok);
  if (ok && store) for (const n of staged) await store.add(n);
  return { ok, simulated, checks, ear: buildEar(checks, { policy: opts.policy, now: opts.now, simulated, ok }) };
}

/**
 * Each log proof (its result is in this bundle and verified, its head is signed by the evidence-bound keys, the
 * result's leaf sits under that head's root; a proof of a result that failed is passed over), then one inclusion line per verified result: included, missing
 * (refused unless the policy relaxes it), or relaxed. A result whose proof failed, or any result once a proof named
 * no result, gets no line of its own: the failed proof already refuses the bundle and may have been the one for it.
 */
async function logInclusionChecks(
  bundle: AuditBundle,
  verified: ReadonlyMap<string, { index: number; body: ResultBody }>,
  keys: Evidence['keys'],
  policy: Policy,
): Promise<Check[]> {
  const checks: Check[] = [];
  const included = new Map<string, { proof: number; treeSize: number }>();
  const attempted = new Set<string>();
  let unattributed = false;
  for (const [j, lp] of bundle.logProofs.entries()) {
    const id = `logProofs[${j}]`;
    const requestId = (lp as { requestId?: unknown } | null)?.requestId;
    const result = typeof requestId === 'string' ? verified.get(requestId) : undefined;
    // The proof of a result that did not verify cannot be checked, and that result's own failure refuses the bundle.
    if (!result && bundle.results.some((r) => r.request.requestId === requestId)) continue;
    try {
      const head = await verifyBundleLogProof(lp, result?.body, keys);
      checks.push(pass(id, `results[${result?.index}] in the log under a signed head of ${head.treeSize} leaves`));
      if (typeof requestId === 'string' && !included.has(requestId))
        included.set(requestId, { proof: j, treeSize: head.treeSize });
    } catch (e) {
      checks.push(failFrom(id, e, 'ERR_LOG_INCLUSION_INVALID'));
      if (result && typeof requestId === 'string') attempted.add(requestId);
      else unattributed = true;
    }
  }
  const required = policy.bundle.requireLogInclusion;
  for (const [requestId, { index }] of verified) {
    const id = `results[${index}].log-inclusion`;
    const inc = included.get(requestId);
    if (inc) checks.push(pass(id, `logProofs[${inc.proof}]: under a signed head of ${inc.treeSize} leaves`));
    else if (attempted.has(requestId) || unattributed) continue;
    else if (required) checks.push(fail(id, 'ERR_LOG_INCLUSION_MISSING'));
    else checks.push({ id, ok: true, pinned: false, detail: 'no log proof; not required by policy (relaxed)' });
  }
  return checks;
}
