// `props serve --anchor-rpc URL --anchor-registry ADDRESS`: the enclave key's last on-chain checkpoint is read at
// start, and a local log behind it (the host restored an older database) refuses to start.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deploy, startLocalChain, type LocalChain } from '../contracts/index.ts';
import { serveCommandWith } from '../enclave/serve.ts';
import { main } from '../cli/main.ts';
import { chainKeyId, type Hex } from '../protocol/index.ts';

const BIN = fileURLToPath(new URL('../bin/props.js', import.meta.url));
const REGISTRY = '0x00000000000000000000000000000000000000aa';

describe('props serve --anchor-rpc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'props-anchor-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 2 when only one of --anchor-rpc and --anchor-registry is given, or either is malformed', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['serve', '--anchor-rpc', 'http://127.0.0.1:8545'])).toBe(2);
      expect(await main(['serve', '--anchor-registry', REGISTRY])).toBe(2);
      expect(await main(['serve', '--anchor-rpc', 'http://127.0.0.1:8545', '--anchor-registry', '0x12'])).toBe(2);
      expect(await main(['serve', '--anchor-rpc', 'ftp://x', '--anchor-registry', REGISTRY])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });

  it("host rollback: a local log behind the key's on-chain checkpoint refuses to start (ERR_STATE_ROLLED_BACK)", async () => {
    const asked: Array<{ rpcUrl: string; registry: Hex; keyId: Hex }> = [];
    const cmd = serveCommandWith({
      anchor: async (o) => {
        asked.push(o);
        return { treeSize: 3, root: `0x${'11'.repeat(32)}` };
      },
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const db = join(dir, 'rolled-back.db');
      await expect(
        cmd.run([
          '--db',
          db,
          '--port',
          '0',
          '--quiet',
          '--anchor-rpc',
          'http://127.0.0.1:1',
          '--anchor-registry',
          REGISTRY,
        ]),
      ).rejects.toMatchObject({ code: 'ERR_STATE_ROLLED_BACK' });
    } finally {
      err.mockRestore();
    }
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ rpcUrl: 'http://127.0.0.1:1', registry: REGISTRY });
    expect(asked[0]!.keyId).toMatch(/^0x[0-9a-f]{64}$/);
  });

  describe('against a real registry (anvil)', () => {
    let chain: LocalChain;
    let registry: Hex;
    beforeAll(async () => {
      chain = await startLocalChain();
      registry = (await deploy({ rpcUrl: chain.rpcUrl, privateKey: chain.privateKeys[0]!, simulationAllowed: true }))
        .registry;
    }, 60_000);
    afterAll(async () => chain?.close());

    it("reads the key's head from the registry and starts when the key was never checkpointed", async () => {
      const child = spawn(
        process.execPath,
        [
          BIN,
          'serve',
          '--port',
          '0',
          '--quiet',
          '--db',
          join(dir, 'fresh.db'),
          '--anchor-rpc',
          chain.rpcUrl,
          '--anchor-registry',
          registry,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      try {
        const started = await new Promise<{ url: string }>((resolve, reject) => {
          let buf = '';
          child.stdout!.on('data', (d: Buffer) => {
            buf += d.toString();
            if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]!) as { url: string });
          });
          child.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
        });
        const manifest = (await (await fetch(`${started.url}/v1/attestation/evidence`)).json()) as {
          keys: { chain: { publicKey: Hex } };
        };
        expect(chainKeyId(manifest.keys.chain.publicKey)).toMatch(/^0x[0-9a-f]{64}$/);
      } finally {
        child.kill('SIGKILL');
      }
    }, 60_000);
  });
});
