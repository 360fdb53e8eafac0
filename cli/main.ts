// The `props` dispatcher: names → each part's own command module, and the one way every command answers `--help`
// and an option it refuses. No logic of its own beyond that.
import { PropsError, type Command } from '../protocol/index.ts';

const commands: Record<string, () => Promise<Command>> = {
  attest: async () => (await import('../enclave/cli.ts')).attestCommand,
  verify: async () => (await import('../verifier/cli.ts')).verifyCommand,
  bench: async () => (await import('../bench/cli.ts')).benchCommand,
  proof: async () => (await import('../verifier/proof-cli.ts')).proofCommand,
  manifest: async () => (await import('../enclave/manifest-cli.ts')).manifestCommand,
  sim: async () => (await import('../sim/cli.ts')).simCommand,
  model: async () => (await import('../sim/model/cli.ts')).modelCommand,
  chain: async () => (await import('../contracts/cli.ts')).chainCommand,
  oracle: async () => (await import('../oracle/cli.ts')).oracleCommand,
  serve: async () => (await import('./serve.ts')).serveCommand,
  kms: async () => (await import('./kms.ts')).kmsCommand,
};

/** Every command the dispatcher knows, and `attest verify` (the verifier's raw-evidence check under `attest`). */
export const COMMAND_NAMES: readonly string[] = [...Object.keys(commands), 'attest verify'];

/** The command list with each command's own summary (loads every command module: `--help` only). */
async function usage(): Promise<string> {
  const lines = await Promise.all(
    Object.entries(commands).map(async ([name, load]) => `  ${name.padEnd(8)} ${(await load()).summary}`),
  );
  return ['usage: props <command> [options]', '', 'commands:', ...lines].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    // Asked for, the usage is the answer (stdout, 0); no command at all is a usage error (stderr, 2).
    (name ? process.stdout : process.stderr).write(`${await usage()}\n`);
    return name ? 0 : 2;
  }
  // `props attest verify …` checks raw platform evidence (verifier); plain `props attest` boots a sim enclave (enclave).
  const sub = name === 'attest' && rest[0] === 'verify' ? rest.shift() : undefined;
  const load = sub
    ? async () => (await import('../verifier/attest-cli.ts')).attestVerifyCommand
    : Object.hasOwn(commands, name)
      ? commands[name]
      : undefined;
  if (!load) {
    process.stderr.write(`props: unknown command "${name}"\n${await usage()}\n`);
    return 2;
  }
  const command = await load();
  const label = sub ? `props ${name} ${sub}` : `props ${name}`;
  if (asksForHelp(rest)) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof PropsError) {
      process.stderr.write(`${label}: ${e.code}: ${e.message}\n`);
      return 2;
    }
    if (isArgsError(e)) {
      process.stderr.write(`${label}: ${e.message}\n${command.usage}\n`);
      return 2;
    }
    throw e;
  }
}

/** `--help` or `-h` among the options (before a `--`, after which everything is an operand). */
function asksForHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** node:util's parseArgs refuses an unknown, missing or malformed option with a TypeError coded ERR_PARSE_ARGS_*. */
function isArgsError(e: unknown): e is TypeError {
  return e instanceof TypeError && String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
}
