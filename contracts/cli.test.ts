// `props chain` as a user runs it: a real anvil, deployed contracts, one JSON object on stdout; usage errors exit 2.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = new URL('../bin/props.js', import.meta.url).pathname;

async function props(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('props chain', () => {
  it('up --once --json starts anvil, deploys and prints the addresses', async () => {
    const r = await props(['chain', 'up', '--once', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ chainId: 31337, simulationAllowed: true, local: true });
    for (const k of ['token', 'registry', 'escrow']) expect(out[k]).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(out.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses an unknown option, a non-HTTP RPC URL and a missing deployer key with exit 2', async () => {
    expect((await props(['chain', 'up', '--wat'])).code).toBe(2);
    const bad = await props(['chain', 'deploy', '--rpc', 'ftp://example']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('ERR_USAGE');
    const noKey = await props(['chain', 'deploy', '--rpc', 'http://127.0.0.1:1'], { PROPS_DEPLOYER_KEY: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('ERR_CHAIN_CONFIG_INVALID');
  });

  it('reports an unreachable endpoint as ERR_CHAIN_UNREACHABLE', async () => {
    const r = await props(['chain', 'deploy', '--rpc', 'http://127.0.0.1:1'], {
      PROPS_DEPLOYER_KEY: `0x${'ab'.repeat(32)}`,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ERR_CHAIN_UNREACHABLE');
  });
});
