// Bundles the browser pages from the same TypeScript the CLI runs (esbuild, in memory, no network).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

export type Page = { html: string; js: string };
const cache = new Map<string, Promise<Page>>();

/** Builds a page once per process: `auditor` (verifier only). */
export function buildPage(name: 'auditor'): Promise<Page> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      const out = await build({
        entryPoints: [here(`./${name}.ts`)],
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'browser',
        target: ['chrome120', 'firefox120', 'safari17'],
        minify: true,
        legalComments: 'none',
        logLevel: 'silent',
      });
      const js = out.outputFiles[0]?.text ?? '';
      return { html: readFileSync(here(`./${name}.html`), 'utf8'), js };
    })();
    cache.set(name, p);
  }
  return p;
}
