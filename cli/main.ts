// The `props` dispatcher: names → each part's own command module. No logic of its own.
import { PropsError } from '../protocol/index.ts';

export type Command = { summary: string; run: (argv: string[]) => Promise<number> };

const commands: Record<string, () => Promise<Command>> = {
  attest: async () => (await import('../enclave/cli.ts')).attestCommand,
  verify: async () => (await import('../verifier/cli.ts')).verifyCommand,
  bench: async () => (await import('../bench/cli.ts')).benchCommand,
  serve: async () => (await import('../enclave/serve.ts')).serveCommand,
};

function usage(): string {
  return ['usage: props <command> [options]', '', 'commands:', ...Object.keys(commands).map((c) => `  ${c}`)].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
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
