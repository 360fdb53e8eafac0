// `props serve` with the browser pages: the data-owner page (/owner.html) and the auditor page (/auditor.html),
// bundled here because the enclave part does not import the oracle's browser code.
import { serveCommandWith } from '../enclave/serve.ts';
import { buildPage } from './pages.ts';

export const serveCommand = serveCommandWith({
  pages: async () => {
    const [owner, auditor] = await Promise.all([buildPage('owner'), buildPage('auditor')]);
    return {
      '/owner.html': { contentType: 'text/html; charset=utf-8', body: owner.html },
      '/owner.js': { contentType: 'text/javascript; charset=utf-8', body: owner.js },
      '/auditor.html': { contentType: 'text/html; charset=utf-8', body: auditor.html },
      '/auditor.js': { contentType: 'text/javascript; charset=utf-8', body: auditor.js },
    };
  },
});
