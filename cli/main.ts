// The `props` dispatcher: names → each part's own command module. No logic of its own.
import { PropsError } from '../protocol/index.ts';

export type Command = { summary: string; run: (argv: string[]) => Promise<number> };

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
  try {
    return await (await load()).run(rest);
  } catch (e) {
    if (e instanceof PropsError) {
      process.stderr.write(`props ${name}: ${e.code}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
