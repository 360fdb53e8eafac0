// The code hash: what the shipped enclave bundle is, computed the same way by the enclave at boot and by an
// auditor from a checkout or image. Files: every non-test .ts, .js, .json, .sql and .html file under the parts that
// run inside the enclave or that it serves — protocol/, verifier/, enclave/ (its store migrations included: the
// unique indexes there are the nonce and escrow-job registers), cli/ and bin/ (the entry `props serve` runs), oracle/
// (bundled into the data-owner page it serves) — plus package.json and package-lock.json; model files are excluded
// because the model has its own hash. Sorted by POSIX path (code-unit order). Each file
// contributes u32be(len(path)) || path || SHA-256(content); the list is hashed under the tag "props/code/v1".
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { concatBytes, sha256, sha256Tagged, toHex, utf8, TAGS, type Hex } from '../protocol/index.ts';

export const CODE_DIRS = ['protocol', 'verifier', 'enclave', 'cli', 'bin', 'oracle'] as const;
export const CODE_FILES = ['package.json', 'package-lock.json'] as const;
const INCLUDED = /\.(ts|js|json|sql|html)$/;
const EXCLUDED = /(\.test\.ts$|(^|\/)node_modules\/|(^|\/)fixtures\/)/;

export function codeFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const abs = join(dir, name);
      const rel = relative(root, abs).split(sep).join('/');
      if (EXCLUDED.test(rel)) continue;
      const st = statSync(abs);
      if (st.isDirectory()) walk(abs);
      else if (st.isFile() && INCLUDED.test(name)) out.push(rel);
    }
  };
  for (const d of CODE_DIRS) walk(join(root, d));
  for (const f of CODE_FILES) {
    try {
      if (statSync(join(root, f)).isFile()) out.push(f);
    } catch {
      /* a missing lockfile is hashed as absent */
    }
  }
  return out.sort();
}

export function computeCodeHash(root: string): { codeHash: Hex; files: string[] } {
  const files = codeFiles(root);
  const parts: Uint8Array[] = [];
  for (const f of files) {
    const p = utf8(f);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, p.length);
    parts.push(len, p, sha256(readFileSync(join(root, f))));
  }
  return { codeHash: toHex(sha256Tagged(TAGS.code, concatBytes(...parts))), files };
}
