// The dispatcher answers `--help` and refused options the same way for every command: help on stdout with exit 0,
// a refused option named on stderr with the command's usage and exit 2 — never a stack trace, never a run.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMAND_NAMES, main } from './main.ts';

const COMMANDS = COMMAND_NAMES;

async function props(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('props <command> --help and refused options', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(COMMANDS)('props %s --help (and -h): the usage on stdout, exit 0, nothing run', async (command) => {
    for (const flag of ['--help', '-h']) {
      const r = await props(...command.split(' '), flag);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`usage:[\\s\\S]*props ${command}`));
      expect(r.stderr).toBe('');
    }
  });

  it('--help after a sub-command gets the command usage too', async () => {
    for (const argv of [
      ['model', 'info', '--help'],
      ['oracle', 'fetch', '--help'],
      ['chain', 'deploy', '-h'],
    ]) {
      const r = await props(...argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`props ${argv[0]}`);
    }
  });

  it('a --help after -- is an operand, not a request for help', async () => {
    const r = await props('verify', '--', '--help');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('ERR_FILE_UNREADABLE');
  });

  it.each(['attest', 'verify', 'bench', 'manifest', 'sim', 'serve'])(
    'props %s --no-such-option: named on stderr with the usage, exit 2',
    async (command) => {
      const r = await props(command, '--no-such-option');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`props ${command}: Unknown option '--no-such-option'`);
      expect(r.stderr).toContain(`usage: props ${command}`);
      expect(r.stdout).toBe('');
    },
  );

  it('a refused option after a sub-command: exit 2 with that command usage', async () => {
    for (const [command, sub] of [
      ['model', 'info'],
      ['chain', 'up'],
    ] as const) {
      const r = await props(command, sub, '--no-such-option');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`props ${command}: Unknown option '--no-such-option'`);
      expect(r.stderr).toContain(`props ${command} ${sub}`);
    }
  });
});
