// verifyBundle: everything an auditor checks offline — the evidence, its manifest, the JWKS, every result, and each
// result's log inclusion proof under its signed tree head.
import { canonicalJson, parseAuditBundle, type AuditBundle, type ResultBody } from '../protocol/index.ts';
import { fail, pass, type Check } from './checks.ts';
import { buildEar, type Ear } from './ear.ts';
import { failFrom, verifyEvidence, type VerifyEvidenceOptions } from './evidence.ts';
import { verifyBundleLogProof } from './log.ts';
import { verificationTime } from './now.ts';
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
      const verified = new Map<string, ResultBody>();
      for (const [i, r] of bundle.results.entries()) {
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
        if (rep.ok && rep.body) verified.set(rep.body.requestId, rep.body);
      }
      // Each log proof: its result is in this bundle and verified, its head is signed by the evidence-bound keys,
      // and the result's leaf sits under that head's root.
      for (const [i, lp] of bundle.logProofs.entries()) {
        const id = `logProofs[${i}]`;
        try {
          const requestId = (lp as { requestId?: unknown } | null)?.requestId;
          const head = await verifyBundleLogProof(
            lp,
            typeof requestId === 'string' ? verified.get(requestId) : undefined,
            ev.evidence.keys,
          );
          checks.push(pass(id, `result in the log under a signed head of ${head.treeSize} leaves`));
        } catch (e) {
          checks.push(failFrom(id, e, 'ERR_LOG_INCLUSION_INVALID'));
        }
      }
    } else if (bundle.results.length > 0 || bundle.logProofs.length > 0) {
      checks.push(fail('results', 'ERR_RESULT_EVIDENCE_MISMATCH', 'evidence did not verify, so no result can'));
    }
  }
  const ok = checks.length > 0 && checks.every((c) => c.ok);
  if (ok && store) for (const n of staged) await store.add(n);
  return { ok, simulated, checks, ear: buildEar(checks, { policy: opts.policy, now: opts.now, simulated, ok }) };
}
