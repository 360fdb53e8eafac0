// The shape of a `props` sub-command, which each part's CLI module exports and the dispatcher (cli/main.ts) runs: a
// leaf type, so that no part imports the dispatcher that imports them all.

/**
 * A part's command. `summary` is its line in `props --help`; `usage` is what `props <command> --help` prints and what
 * follows a usage error. The dispatcher answers both the same way for every command, so `run` sees neither `--help`
 * nor `-h`. `run` resolves to the exit code: 0 ok, 1 a verification that did not hold, 2 usage or unreadable input.
 */
export type Command = { summary: string; usage: string; run: (argv: string[]) => Promise<number> };
