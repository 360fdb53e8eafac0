// What the route modules are built from: the injected service parts and the per-process pieces the app assembles.
import type { LRUCache } from 'lru-cache';
import type { Statement } from '../../protocol/index.ts';
import type { ServiceDeps } from './deps.ts';
import type { Ids } from './ids.ts';
import type { JobRunner } from './jobs.ts';
import type { Metrics } from './metrics.ts';

export type ApiContext = {
  deps: ServiceDeps;
  runner: JobRunner;
  /** Decrypted statements by submission id (bounded; a dropped one is re-opened from the store). */
  statementCache: LRUCache<string, Statement>;
  metrics: Metrics;
  ids: Ids;
  nowS(): number;
  applyRetention(): Promise<number>;
};
