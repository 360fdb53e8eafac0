// The transparency logs of result attestations (RFC 9162 trees over the store): this instance's own and, in a fleet,
// the other instances' logs it serves proofs for.
export { openTransparencyLog, type TransparencyLog } from './log.ts';
export { fleetLogs, type Logs, type LogView } from './fleet.ts';
export type { LogProofs } from './proofs.ts';
