// The scoring service: HTTP API, job runner, default ingest/consent checks, problem details.
export { createScoringApp, type ScoringService } from './app.ts';
export { createJobRunner, type JobRunner } from './jobs.ts';
export {
  defaultIngest,
  defaultVerifyConsent,
  submissionIdOf,
  submissionPayload,
  consentPayload,
  type SubmissionPayload,
  type ConsentPayload,
} from './ingest.ts';
export { keyedNullifier } from './nullifier.ts';
export { problemOf, statusOf, type Problem } from './problem.ts';
export {
  DEFAULT_LIMITS,
  type Consent,
  type Ingest,
  type IngestedSubmission,
  type Limits,
  type Logger,
  type Scorer,
  type ServiceDeps,
  type VerifyConsent,
} from './deps.ts';
