// The transparency log over the SQLite store: appends are exactly-once per job, survive a reopen, and every
// inclusion and consistency proof it serves verifies against its signed heads.
import { describe, expect, it } from 'vitest';
import type { Hex } from '../../protocol/index.ts';
import { verifyLogConsistency, verifyLogInclusion, verifySignedTreeHead } from '../../verifier/index.ts';
import { fixedClock, hex32, NOW, simEnclave } from '../../testing/enclave.ts';
import { openSqliteStore } from '../store/index.ts';
import { openTransparencyLog } from './log.ts';

async function seeded(n: number) {
  const enclave = await simEnclave({ seed: 'log' });
  const store = openSqliteStore(':memory:');
  const now = Math.floor(NOW.getTime() / 1000);
  await store.createLender({ id: 'l', name: 'l', keyHash: 'h', ratePerSecond: 1, createdAt: now });
  await store.insertSubmission({
    id: hex32('01'),
    ciphertext: 'c',
    inputCommitment: hex32('02'),
    nullifier: hex32('03'),
    ownerKey: '{}',
    decryptionKey: 'k',
    createdAt: now,
    deletedAt: null,
  });
  await store.insertConsent({
    id: hex32('04'),
    submissionId: hex32('01'),
    lenderId: 'l',
    purpose: 'p',
    expiresAt: now + 10,
    maxUses: 100,
    uses: 0,
    jws: 'j',
    createdAt: now,
  });
  for (let i = 0; i < n; i++) {
    await store.acceptJob({
      job: {
        id: `job${i}`,
        lenderId: 'l',
        idempotencyKey: `k${i}`,
        requestHash: 'r',
        consentId: hex32('04'),
        submissionId: hex32('01'),
        requestId: `req${i}`,
        nonce: `n${i}`,
        escrowJobId: null,
        threshold: 1,
        state: 'accepted',
        errorCode: null,
        createdAt: now,
        updatedAt: now,
        decryptionKey: 'k',
        claimedBy: null,
        leaseUntil: null,
      },
      now,
      borrowerCap: 100,
      borrowerWindowSeconds: 60,
    });
  }
  const log = await openTransparencyLog({ store, enclave, clock: fixedClock() });
  return { enclave, store, log };
}

const structHash = (i: number) => `0x${(i + 1).toString(16).padStart(64, '0')}`;

describe('transparency log', () => {
  it('appends each job once: a retried batch (after a crash) adds no second leaf or result', async () => {
    const { log, store } = await seeded(3);
    const done = [0, 1].map((i) => ({ jobId: `job${i}`, attestation: '{}', structHash: structHash(i) }));
    expect(await log.appendResults(done)).toEqual([
      { jobId: 'job0', logIndex: 0 },
      { jobId: 'job1', logIndex: 1 },
    ]);
    expect(await log.appendResults([...done, { jobId: 'job2', attestation: '{}', structHash: structHash(2) }])).toEqual(
      [{ jobId: 'job2', logIndex: 2 }],
    );
    expect(log.size()).toBe(3);
    expect((await store.logLeaves(log.id)).length).toBe(3);
  });

  it('serves proofs that verify against its signed heads, and keeps them across a reopen', async () => {
    const { log, store, enclave } = await seeded(7);
    await log.appendResults([0, 1, 2].map((i) => ({ jobId: `job${i}`, attestation: '{}', structHash: structHash(i) })));
    const h3 = await verifySignedTreeHead(await log.signedHead(), enclave.evidence.keys);
    await log.appendResults(
      [3, 4, 5, 6].map((i) => ({ jobId: `job${i}`, attestation: '{}', structHash: structHash(i) })),
    );
    const h7 = await verifySignedTreeHead(await log.signedHead(), enclave.evidence.keys);
    for (let i = 0; i < 7; i++) {
      const p = log.inclusion(i, 7);
      expect(() => verifyLogInclusion({ ...p, rootHash: h7.rootHash as Hex })).not.toThrow();
    }
    const c = log.consistency(3, 7);
    expect(() =>
      verifyLogConsistency({ ...c, oldRoot: h3.rootHash as Hex, newRoot: h7.rootHash as Hex }),
    ).not.toThrow();
    const reopened = await openTransparencyLog({ store, enclave, clock: fixedClock() });
    expect((await reopened.signedHead()).rootHash).toBe(h7.rootHash);
    expect(() => log.inclusion(7, 7)).toThrow(expect.objectContaining({ code: 'ERR_LOG_INDEX_OUT_OF_RANGE' }));
    expect(() => log.consistency(5, 8)).toThrow(expect.objectContaining({ code: 'ERR_LOG_INDEX_OUT_OF_RANGE' }));
  });

  it('a second writer on the same store: the log refuses an index it did not expect instead of signing over a gap', async () => {
    const { log, store, enclave } = await seeded(2);
    const other = await openTransparencyLog({ store, enclave, clock: fixedClock() });
    await log.appendResults([{ jobId: 'job0', attestation: '{}', structHash: structHash(0) }]);
    await expect(
      other.appendResults([{ jobId: 'job1', attestation: '{}', structHash: structHash(1) }]),
    ).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
    expect(other.size()).toBe(0);
    expect(log.size()).toBe(1);
  });

  it('host rollback under signed heads: results removed or changed below a head the enclave signed refuse the start', async () => {
    const { log, store, enclave } = await seeded(3);
    await log.appendResults([0, 1, 2].map((i) => ({ jobId: `job${i}`, attestation: '{}', structHash: structHash(i) })));
    await log.signedHead();
    const db = (store as unknown as { sqlite: import('better-sqlite3').Database }).sqlite;
    // The host changes a result's leaf datum, keeping the signed head: a fork.
    db.prepare('UPDATE results SET struct_hash = ? WHERE log_index = 1').run(structHash(9));
    await expect(openTransparencyLog({ store, enclave, clock: fixedClock() })).rejects.toMatchObject({
      code: 'ERR_STATE_FORKED',
    });
    db.prepare('UPDATE results SET struct_hash = ? WHERE log_index = 1').run(structHash(1));
    expect((await openTransparencyLog({ store, enclave, clock: fixedClock() })).size()).toBe(3);
    // The host removes the last result (and its job's link to it), keeping the signed head: a rollback.
    db.prepare("UPDATE jobs SET log_index = NULL, state = 'accepted' WHERE log_index = 2").run();
    db.prepare('DELETE FROM results WHERE log_index = 2').run();
    await expect(openTransparencyLog({ store, enclave, clock: fixedClock() })).rejects.toMatchObject({
      code: 'ERR_STATE_ROLLED_BACK',
    });
  });
});
