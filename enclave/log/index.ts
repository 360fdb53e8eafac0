// The transparency log of result attestations (RFC 9162 tree over the store).
export { openTransparencyLog, type TransparencyLog } from './log.ts';
