// Rows the store suites share: a job of one lender under one consent of one submission, and the seed that stores that
// lender, submission and consent and accepts the given jobs.
import type { JobRow, Store } from '../enclave/store/types.ts';

export const NOW = 1_800_000_000;
/** The decryption key of the seeded submission. */
export const DK = 'dk-1';
export const hex = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

export const job = (i: number, createdAt = NOW): JobRow => ({
  id: `job-${i}`,
  lenderId: 'lender-1',
  idempotencyKey: `idem-${i}`,
  requestHash: hex(100 + i),
  consentId: hex(3),
  submissionId: 'sub-1',
  requestId: hex(200 + i),
  nonce: hex(300 + i),
  escrowJobId: null,
  threshold: 600,
  state: 'accepted',
  errorCode: null,
  createdAt,
  updatedAt: createdAt,
  decryptionKey: DK,
  claimedBy: null,
  leaseUntil: null,
});

/** Lender `lender-1`, submission `sub-1` and consent `hex(3)` (maxUses uses), then each job accepted in turn. */
export async function seed(store: Store, jobs: JobRow[], maxUses = 100): Promise<void> {
  await store.createLender({ id: 'lender-1', name: 'L', keyHash: 'kh-1', ratePerSecond: 10, createdAt: NOW });
  await store.insertSubmission({
    id: 'sub-1',
    ciphertext: 'c',
    inputCommitment: hex(1),
    nullifier: hex(2),
    ownerKey: 'o',
    decryptionKey: DK,
    createdAt: NOW,
    deletedAt: null,
  });
  await store.insertConsent({
    id: hex(3),
    submissionId: 'sub-1',
    lenderId: 'lender-1',
    purpose: 'credit-scoring',
    expiresAt: NOW + 3600,
    maxUses,
    uses: 0,
    jws: 'a.b.c',
    createdAt: NOW,
  });
  for (const j of jobs) await store.acceptJob({ job: j, now: NOW, borrowerCap: 100, borrowerWindowSeconds: 86_400 });
}
