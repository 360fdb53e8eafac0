// Runs the bank-portal fixture on its own thread for bench/fetch.ts, so the server's work does not share the client's
// event loop (a real bank is another machine). Posts {port, caPem, host} once listening; closes on any message.
import { parentPort, workerData } from 'node:worker_threads';
import type { Statement } from '../../protocol/index.ts';
import { startBankPortal } from '../../sim/bank/portal.ts';
import { sampleStatement } from '../../sim/bank/sample.ts';

const { txs, serverMs, token } = workerData as { txs: number; serverMs: number; token: string };
const statementFor = (id: string): Statement => {
  const s = sampleStatement(id);
  return { ...s, transactions: Array.from({ length: txs }, (_, i) => s.transactions[i % s.transactions.length]!) };
};
const portal = await startBankPortal({
  statementFor,
  accounts: [{ accountId: 'acc-1', token }],
  responseDelayMs: serverMs,
});
parentPort!.postMessage({ port: portal.port, caPem: portal.caPem, host: portal.host });
parentPort!.once('message', () => void portal.close().then(() => process.exit(0)));
