// protocol: the leaf every part imports — wire formats, canonical JSON, tagged hashing, EIP-712 types, errors.
export * from './errors.ts';
export * from './canonical.ts';
export * from './jose-json.ts';
export * from './bytes.ts';
export * from './hash.ts';
export * from './parse.ts';
export * from './schemas.ts';
export * from './eip712.ts';
export * from './result-batch.ts';
export * from './manifest.ts';
export * from './records.ts';
export * from './sim-quote.ts';
export * from './provenance.ts';
export * from './merkle.ts';
export * from './tree-head.ts';
export * from './oracle.ts';
export * from './kms.ts';
export type { Command } from './command.ts';
