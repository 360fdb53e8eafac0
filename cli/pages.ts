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
    b.onResolve({ filter: /(^|\/)real\.ts$/ }, (args) =>
      /platforms[\\/]index\.ts$/.test(args.importer) ? { path: 'real-platforms', namespace: 'real-stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'real-stub' }, () => ({
      contents: 'export const realVerifiers = {};',
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${'${'}args.path${'}'} is not available in the browser`)}); };\nexport const readFileSync = fail, createRequire = fail;\nexport default {};`,
      loader: 'js',
    }));
  },
};

// Each page: its HTML and its browser entry, in the part it belongs to.
const PAGES = {
  auditor: { html: '../verifier/web/auditor.html', entry: '../verifier/web/auditor.ts' },
  owner: { html: '../oracle/web/owner.html', entry: '../oracle/web/owner.ts' },
} as const;
export type PageName = keyof typeof PAGES;

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

export type Page = { html: string; js: string };
const cache = new Map<string, Promise<Page>>();

/** Builds a page once per process: `auditor` (the verifier alone) or `owner` (the data-owner client). */
export function buildPage(name: PageName): Promise<Page> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      const out = await build({
        entryPoints: [here(PAGES[name].entry)],
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
      return { html: readFileSync(here(PAGES[name].html), 'utf8'), js };
    })();
    cache.set(name, p);
  }
  return p;
}
