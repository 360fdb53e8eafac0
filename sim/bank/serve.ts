// Runs the bank-portal fixture by itself for trying the oracle CLI by hand:
//   npx tsx sim/bank/serve.ts --dir DIR [--account acc-1] [--seed S]
// With --seed the statement comes from the seeded generator (borrower 0); otherwise the small hand-built sample.
// writes DIR/ca.pem and DIR/token (0600), prints one JSON line {origin, route, statementUrl, jwksUrl}, serves until killed.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBankPortal } from './portal.ts';
import { sampleStatement } from './sample.ts';
import { generateBorrower } from './generator.ts';

const { values: v } = parseArgs({
  options: { dir: { type: 'string' }, account: { type: 'string', default: 'acc-1' }, seed: { type: 'string' } },
  strict: true,
});
if (!v.dir) {
  process.stderr.write('usage: sim/bank/serve.ts --dir DIR [--account ID]\n');
  process.exit(2);
}
const token = `tok_${randomBytes(18).toString('base64url')}`;
const statementFor =
  v.seed === undefined
    ? sampleStatement
    : (id: string) => ({ ...generateBorrower(v.seed!, 0).statement, accountId: id });
const portal = await startBankPortal({ statementFor, accounts: [{ accountId: v.account!, token }] });
await mkdir(v.dir, { recursive: true });
await writeFile(join(v.dir, 'ca.pem'), portal.caPem);
await writeFile(join(v.dir, 'token'), `${token}\n`, { mode: 0o600 });
process.stdout.write(
  `${JSON.stringify({ origin: portal.origin, route: `${portal.host}=127.0.0.1:${portal.port}`, statementUrl: portal.statementUrl(v.account!), jwksUrl: `${portal.origin}/.well-known/jwks.json` })}\n`,
);
const stop = () => void portal.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
