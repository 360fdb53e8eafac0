// Where the shared real-evidence fixtures live (never copied into the repo): PROPS_FIXTURES, else
// <repo root>/../shared/fixtures, else /work/shared/fixtures. Used by tests and the benchmark.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export function fixturesDir(): string | undefined {
  const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
  const candidates = [process.env.PROPS_FIXTURES, join(repoRoot, '..', 'shared', 'fixtures'), '/work/shared/fixtures'];
  return candidates.find((c): c is string => !!c && existsSync(join(c, 'attestation')));
}
