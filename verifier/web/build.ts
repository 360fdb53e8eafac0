// Bundles the browser pages from the same TypeScript the CLI runs (esbuild, in memory, no network).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

// Node built-ins reached only by Node-only paths (the TLSNotary wasm loader reads node_modules): in the browser they
// resolve to stubs that throw if ever called, so a page never silently falls back to something else.
const nodeStubs: Plugin = {
  name: 'node-stubs',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${'${'}args.path${'}'} is not available in the browser`)}); };\nexport const readFileSync = fail, createRequire = fail;\nexport default {};`,
      loader: 'js',
    }));
  },
};

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
        plugins: [nodeStubs],
      });
      const js = out.outputFiles[0]?.text ?? '';
      return { html: readFileSync(here(`./${name}.html`), 'utf8'), js };
    })();
    cache.set(name, p);
  }
  return p;
}
