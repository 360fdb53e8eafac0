// The embedded chain's lifecycle: it answers on loopback with the Osaka P-256 precompile, and close() really stops it.
import { describe, expect, it } from 'vitest';
import { createPublicClient, http, type Hex } from 'viem';
import { startLocalChain } from './local.ts';

describe('startLocalChain', () => {
  it('starts anvil on 127.0.0.1 with the P256VERIFY precompile, and close() stops it', async () => {
    const chain = await startLocalChain({ accounts: 2 });
    try {
      expect(chain.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(chain.privateKeys).toHaveLength(2);
      const client = createPublicClient({ transport: http(chain.rpcUrl, { retryCount: 0 }) });
      expect(await client.getChainId()).toBe(31337);
      // Wycheproof vector with r = 5, s = 1 (the one OpenZeppelin probes with): the precompile answers 1.
      const input = ('0xbb5a52f42f9c9261ed4361f59422a1e30036e7c32b270c8807a419feca605023' +
        '0000000000000000000000000000000000000000000000000000000000000005' +
        '0000000000000000000000000000000000000000000000000000000000000001' +
        'a71af64de5126a4a4e02b7922d66ce9415ce88a4c9d25514d91082c8725ac957' +
        '5d47723c8fbe580bb369fec9c2665d8e30a435b9932645482e7c9f11e872296b') as Hex;
      const { data } = await client.call({ to: '0x0000000000000000000000000000000000000100', data: input });
      expect(BigInt(data ?? '0x0')).toBe(1n);
    } finally {
      await chain.close();
    }
    const gone = createPublicClient({ transport: http(chain.rpcUrl, { retryCount: 0 }) });
    await expect(gone.getChainId()).rejects.toThrow();
  });

  it('a missing anvil binary is ERR_CHAIN_START_FAILED', async () => {
    await expect(startLocalChain({ anvilPath: '/nonexistent/anvil' })).rejects.toMatchObject({
      code: 'ERR_CHAIN_START_FAILED',
    });
  });
});
