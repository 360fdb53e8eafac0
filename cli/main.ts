// The `props` dispatcher: names → each part's own command module, and the one way every command answers `--help`
// and an option it refuses. No logic of its own beyond that.
import { PropsError } from '../protocol/index.ts';

/**
 * A part's command. `usage` is what `--help` prints and what follows a usage error; the dispatcher answers both the
 * same way for every command, so a command's `run` sees neither `--help` nor `-h`.
 */
export type Command = { summary: string; usage: string; run: (argv: string[]) => Promise<number> };

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
};

const SUMMARIES: Record<string, string> = {
  attest: 'boot a SIMULATED enclave and write an audit bundle; `attest verify` checks raw platform evidence',
  verify: 'verify an audit bundle offline (evidence, manifest, results, EAR)',
  bench: 'run the benchmarks side by side (npm run bench)',
  proof: 'verify a provenance proof (TLSNotary, Reclaim, source JWS, attested fetch)',
  sim: 'the whole pipeline on this machine (npm start); --attacks plays the attack catalogue',
  model: 'the credit model: info, train, score',
  chain: 'start a local chain and deploy the contracts, or deploy to any RPC',
  oracle: "the data owner's side: fetch, check the enclave, encrypt, submit, delegate, consent",
  manifest: 'print the manifest (code, model, policy hashes, pipelineId) this checkout runs as',
  serve: 'run the scoring service (HTTP API) with the enclave',
};

function usage(): string {
  return ['usage: props <command> [options]', '', 'commands:', ...Object.keys(commands).map((c) => `  ${c.padEnd(8)} ${SUMMARIES[c] ?? ''}`)].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  // `props attest verify …` checks raw platform evidence (verifier); plain `props attest` boots a sim enclave (enclave).
  const sub = name === 'attest' && rest[0] === 'verify' ? rest.shift() : undefined;
  const load = sub ? async () => (await import('../verifier/attest-cli.ts')).attestVerifyCommand : Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(`props: unknown command "${name}"\n${usage()}\n`);
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
