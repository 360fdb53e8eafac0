// `props serve` with the browser pages — the data-owner page (/owner.html) and the auditor page (/auditor.html) —
// and the chain client that reads the rollback anchor (--anchor-rpc), wired here because the enclave part imports
// neither the oracle's browser code nor the contracts' client.
import { zeroAddress } from 'viem';
import { createPropsChainClient } from '../contracts/index.ts';
import { serveCommandWith } from '../enclave/serve.ts';
import { buildPage } from './pages.ts';

export const serveCommand = serveCommandWith({
  // The registry's head for the enclave key (treeSize 0: never checkpointed), read once at start.
  anchor: async ({ rpcUrl, registry, keyId }) => {
    const chain = await createPropsChainClient({
      rpcUrl,
      addresses: { registry, token: zeroAddress, escrow: zeroAddress },
    });
    const head = await chain.getHead(keyId);
    return head.treeSize === 0n ? undefined : { treeSize: Number(head.treeSize), root: head.root };
  },
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
