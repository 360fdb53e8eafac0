// The code hash covers what the enclave runs and serves: a change to any of it is a different code hash.
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CODE_DIRS, CODE_FILES, codeFiles, computeCodeHash } from './code-hash.ts';
import { REPO_ROOT } from './index.ts';

describe('code hash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'props-codehash-'));
  for (const d of [...CODE_DIRS, ...CODE_FILES]) cpSync(join(REPO_ROOT, d), join(dir, d), { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('code swapped outside the TypeScript: a changed store migration, CLI entry, served page or oracle module changes it', () => {
    const files = codeFiles(dir);
    for (const f of [
      'enclave/store/migrations/0003_nonces_in_jobs.sql',
      'bin/props.js',
      'cli/serve.ts',
      'oracle/web/owner.html',
      'oracle/check.ts',
      'verifier/web/auditor.html',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.endsWith('.test.ts'))).toBe(false);
    expect(computeCodeHash(dir).codeHash).toBe(computeCodeHash(REPO_ROOT).codeHash);
    let last = computeCodeHash(dir).codeHash;
    // A migration that drops the nonce register's uniqueness, a wrapped entry point, a changed page: each is new code.
    for (const f of ['enclave/store/migrations/0003_nonces_in_jobs.sql', 'bin/props.js', 'oracle/web/owner.html']) {
      appendFileSync(join(dir, f), '\n');
      const next = computeCodeHash(dir).codeHash;
      expect(next, f).not.toBe(last);
      last = next;
    }
  });
});
