// The embedded local chain: anvil (from the npm package @foundry-rs/anvil) as a child process on a loopback port,
// with the Osaka hardfork so the P256VERIFY precompile the registry and escrow rely on is present.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mnemonicToAccount } from 'viem/accounts';
import { toHex, type Hex } from 'viem';
import { PropsError } from '../protocol/index.ts';

/** Anvil's well-known development mnemonic: its accounts are public test keys, never for real funds. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
export const LOCAL_CHAIN_ID = 31337;

export type StartLocalChainParameters = {
  /** Loopback port; 0 (default) lets anvil pick a free one. */
  port?: number;
  chainId?: number;
  /** Number of funded development accounts. */
  accounts?: number;
  /** Path to an anvil binary; defaults to $PROPS_ANVIL, then the npm platform package. */
  anvilPath?: string;
  startTimeoutMs?: number;
};

export type LocalChain = {
  rpcUrl: string;
  chainId: number;
  /** Private keys of the funded development accounts (anvil's public test mnemonic). */
  privateKeys: readonly Hex[];
  close: () => Promise<void>;
};

const PLATFORM_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/** A Foundry executable (`anvil`, `forge`): the binary inside its npm platform package, no wrapper in between. */
export function resolveFoundryBinary(tool: 'anvil' | 'forge', explicit?: string): string {
  if (explicit) return explicit;
  const require = createRequire(import.meta.url);
  const arch = PLATFORM_ARCH[process.arch];
  const exe = process.platform === 'win32' ? `${tool}.exe` : tool;
  if (arch) {
    try {
      const pkg = require.resolve(`@foundry-rs/${tool}-${process.platform}-${arch}/package.json`);
      const bin = join(dirname(pkg), 'bin', exe);
      if (existsSync(bin)) return bin;
    } catch {
      // fall through to the error below
    }
  }
  throw new PropsError('ERR_CHAIN_START_FAILED', { detail: `no ${tool} binary for this platform` });
}

/** The anvil executable: `explicit`, else $PROPS_ANVIL, else the npm platform package. */
export function resolveAnvil(explicit?: string): string {
  return resolveFoundryBinary('anvil', explicit ?? process.env.PROPS_ANVIL);
}

export function devPrivateKeys(count: number): Hex[] {
  return Array.from({ length: count }, (_, i) => {
    const key = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: i }).getHdKey().privateKey;
    if (!key) throw new PropsError('ERR_CHAIN_START_FAILED', { detail: 'development key derivation failed' });
    return toHex(key);
  });
}

/** Start anvil on 127.0.0.1 and resolve once it answers; `close()` kills it. */
export async function startLocalChain(params: StartLocalChainParameters = {}): Promise<LocalChain> {
  const chainId = params.chainId ?? LOCAL_CHAIN_ID;
  const accounts = params.accounts ?? 10;
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(params.port ?? 0),
    '--chain-id',
    String(chainId),
    '--hardfork',
    'osaka',
    '--accounts',
    String(accounts),
    '--mnemonic',
    ANVIL_MNEMONIC,
  ];
  const child = spawn(resolveAnvil(params.anvilPath), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // 'error' without 'exit' when the binary cannot be spawned at all.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  // Never leave anvil behind when this process ends without calling close().
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const close = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  try {
    const port = await listeningPort(child, params.startTimeoutMs ?? 20_000);
    return { rpcUrl: `http://127.0.0.1:${port}`, chainId, privateKeys: devPrivateKeys(accounts), close };
  } catch (e) {
    await close();
    throw e;
  }
}

// Anvil prints "Listening on 127.0.0.1:<port>" once its RPC server is bound.
function listeningPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail('anvil did not start in time'), timeoutMs);
    const fail = (detail: string): void => {
      clearTimeout(timer);
      reject(new PropsError('ERR_CHAIN_START_FAILED', { detail }));
    };
    child.once('error', () => fail('anvil could not be spawned'));
    child.once('exit', (code) => fail(`anvil exited (${code ?? 'signal'})`));
    child.stderr?.resume();
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /Listening on [\d.]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        out = '';
        // Keep draining stdout so anvil never blocks on a full pipe.
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        resolve(Number(m[1]));
      } else if (out.length > 1 << 20) {
        out = out.slice(-4096);
      }
    });
  });
}
