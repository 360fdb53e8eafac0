// `props chain`: start the embedded local chain (anvil on loopback) and deploy the Props contracts, or deploy them
// to any JSON-RPC endpoint. Prints the addresses (one JSON object with --json).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { PropsError, address, parseWith } from '../protocol/index.ts';
import type { Command } from '../protocol/index.ts';
import { deploy, type Deployment } from './deploy.ts';
import { startLocalChain } from './local.ts';

const USAGE = `usage:
  props chain up [--port N] [--once] [--json]
      start anvil on 127.0.0.1 (Osaka), deploy token, registry (simulation allowed) and escrow, print the
      addresses and keep running until interrupted (--once: stop right after deploying)
  props chain deploy --rpc URL [--governance ADDRESS] [--allow-simulation] [--json]
      deploy to any JSON-RPC endpoint; the deployer key comes from $PROPS_DEPLOYER_KEY (never argv).
      Without --allow-simulation the registry refuses simulated-platform pipelines (production).`;

const privateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const rpcUrl = z.url({ protocol: /^https?$/ });
const port = z.coerce.number().int().min(0).max(65535);

type Printed = Deployment & { rpcUrl: string; local: boolean; accounts?: Address[] };

function print(out: Printed, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(out, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    return;
  }
  const lines = [
    `rpc        ${out.rpcUrl}${out.local ? ' (local anvil)' : ''}`,
    `chain id   ${out.chainId}`,
    `token      ${out.token}`,
    `registry   ${out.registry}${out.simulationAllowed ? ' (simulation allowed)' : ''}`,
    `escrow     ${out.escrow}`,
    `deployer   ${out.deployer}`,
    `governance ${out.governance}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function usageError(detail: string): number {
  process.stderr.write(`props chain: ${detail}\n${USAGE}\n`);
  return 2;
}

async function up(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { port: { type: 'string' }, once: { type: 'boolean' }, json: { type: 'boolean' } },
  });
  const p = values.port === undefined ? 0 : parseWith(port, values.port, 'ERR_USAGE');
  const chain = await startLocalChain({ port: p });
  try {
    const [deployerKey] = chain.privateKeys;
    if (!deployerKey) throw new PropsError('ERR_CHAIN_START_FAILED', { detail: 'no development account' });
    const d = await deploy({ rpcUrl: chain.rpcUrl, privateKey: deployerKey, simulationAllowed: true });
    const accounts = chain.privateKeys.map((k) => privateKeyToAccount(k).address);
    print({ ...d, rpcUrl: chain.rpcUrl, local: true, accounts }, values.json === true);
    if (values.once) return 0;
    if (!values.json)
      process.stderr.write('anvil is running; accounts use its public test mnemonic. Ctrl-C stops it.\n');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    return 0;
  } finally {
    await chain.close();
  }
}

async function deployTo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rpc: { type: 'string' },
      governance: { type: 'string' },
      'allow-simulation': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (!values.rpc) return usageError('--rpc is required');
  const url = parseWith(rpcUrl, values.rpc, 'ERR_USAGE');
  const governance =
    values.governance === undefined ? undefined : (parseWith(address, values.governance, 'ERR_USAGE') as Address);
  const key = parseWith(privateKey, process.env.PROPS_DEPLOYER_KEY, 'ERR_CHAIN_CONFIG_INVALID') as Hex;
  const d = await deploy({
    rpcUrl: url,
    privateKey: key,
    simulationAllowed: values['allow-simulation'] === true,
    ...(governance ? { governance } : {}),
  });
  print({ ...d, rpcUrl: url, local: false }, values.json === true);
  return 0;
}

export const chainCommand: Command = {
  summary: 'start the local chain and deploy the registry and escrow, or deploy to a JSON-RPC network',
  usage: USAGE,
  // `--help` and options parseArgs refuses are answered by the dispatcher (cli/main.ts), with this usage.
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'up') return await up(rest);
    if (sub === 'deploy') return await deployTo(rest);
    if (sub === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    return usageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
  },
};
