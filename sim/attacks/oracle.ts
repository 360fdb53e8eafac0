// The oracle layer: submissions reaching the enclave's ingest and consents checked before scoring. A refused
// submission is never counted as seen.
import { verifyEvidence } from '../../verifier/index.ts';
import { checkEnclave, encryptSubmission, generateOwnerKey } from '../../oracle/index.ts';
import { rejection, type AttackContext } from './context.ts';
import { bindScenarios, type Attempt, type Scenario, type ScenarioOn } from './types.ts';

/** An ingest that must be refused without the enclave recording the submission. */
async function ingestCode({ side }: AttackContext, jwe: unknown): Promise<Attempt> {
  const before = side.submissionsSeen();
  const code = await rejection(() => side.ingest(jwe));
  return { code, traceFree: side.submissionsSeen() === before };
}

async function replayedSubmission(c: AttackContext): Promise<Attempt> {
  return ingestCode(c, c.side.lastSubmission());
}

async function misaddressedSubmission(c: AttackContext): Promise<Attempt> {
  const other = await c.w.bootSim();
  const checked = await checkEnclave({
    evidence: other.evidence,
    manifest: other.manifest,
    policy: c.w.lenderPolicy,
    now: new Date(),
    verifyEvidence: (e, opts) => verifyEvidence(e, opts),
  });
  const owner = (await generateOwnerKey()).key;
  const { jwe } = await encryptSubmission(
    { proofs: c.sub.accepted!.submission.proofs, owner: owner.publicJwk },
    checked,
    {
      now: () => new Date(),
    },
  );
  return ingestCode(c, jwe);
}

async function malformedSubmission(c: AttackContext): Promise<Attempt> {
  return ingestCode(c, 'not.a.jwe.at.all');
}

async function oversizedSubmission(c: AttackContext): Promise<Attempt> {
  return ingestCode(c, 'a'.repeat(16 * 1024 * 1024));
}

async function consentMissing({ side, sub, lenderId }: AttackContext): Promise<Attempt> {
  return { code: await rejection(() => side.checkConsent({ ...sub, consentJws: '' }, lenderId)) };
}

async function consentForAnotherLender({ side, sub, otherLender }: AttackContext): Promise<Attempt> {
  return { code: await rejection(() => side.checkConsent(sub, otherLender.account!.toLowerCase())) };
}

async function consentExpired({ side, sub, lenderId }: AttackContext): Promise<Attempt> {
  return { code: await rejection(() => side.checkConsent(sub, lenderId, new Date(Date.now() + 2 * 3600_000))) };
}

async function consentReusedPastMax({ side, sub, lenderId }: AttackContext): Promise<Attempt> {
  await side.checkConsent(sub, lenderId);
  return { code: await rejection(() => side.checkConsent(sub, lenderId)) };
}

const ORACLE: ScenarioOn<AttackContext>[] = [
  {
    name: 'replayed submission (same JWE sent twice)',
    layer: 'oracle',
    expected: 'ERR_SUBMISSION_REPLAYED',
    run: replayedSubmission,
  },
  {
    name: 'misaddressed submission (encrypted to another enclave)',
    layer: 'oracle',
    expected: 'ERR_SUBMISSION_MISADDRESSED',
    run: misaddressedSubmission,
  },
  {
    name: 'malformed submission payload',
    layer: 'oracle',
    expected: 'ERR_SUBMISSION_MALFORMED',
    run: malformedSubmission,
  },
  {
    name: 'oversized submission payload (16 MiB)',
    layer: 'oracle',
    expected: 'ERR_SUBMISSION_TOO_LARGE',
    run: oversizedSubmission,
  },
  { name: 'consent missing', layer: 'oracle', expected: 'ERR_CONSENT_MISSING', run: consentMissing },
  {
    name: 'consent for another lender',
    layer: 'oracle',
    expected: 'ERR_CONSENT_WRONG_LENDER',
    run: consentForAnotherLender,
  },
  { name: 'consent expired', layer: 'oracle', expected: 'ERR_CONSENT_EXPIRED', run: consentExpired },
  {
    name: 'consent reused past its maximum uses',
    layer: 'oracle',
    expected: 'ERR_CONSENT_EXHAUSTED',
    run: consentReusedPastMax,
  },
];

/** The oracle catalogue, in the order it runs. */
export const oracleScenarios = (c: AttackContext): Scenario[] => bindScenarios(ORACLE, c);
