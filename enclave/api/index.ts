// The scoring service: HTTP API, job runner, problem details. Ingest and consent checks are injected (the oracle's:
// oracle-adapters.ts).
export { createScoringApp, type ScoringService } from './app.ts';
export { createJobRunner, type JobRunner } from './jobs.ts';
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
