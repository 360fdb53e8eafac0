// The shared store's fixed SQL texts: the hot reads, the claim, and the calls of the plpgsql functions
// (migrations/0001_functions.sql) that take a turn's acceptances, a batch's completions, a turn's rate-limit draws.

/** A job's columns under the names of JobRow's fields. */
const JOB_COLUMNS = `id, lender_id AS "lenderId", idempotency_key AS "idempotencyKey", request_hash AS "requestHash",
  consent_id AS "consentId", submission_id AS "submissionId", request_id AS "requestId", nonce,
  escrow_job_id AS "escrowJobId", threshold, state, error_code AS "errorCode", created_at AS "createdAt",
  updated_at AS "updatedAt", decryption_key AS "decryptionKey", claimed_by AS "claimedBy", lease_until AS "leaseUntil"`;

// The hot statements, each prepared once per connection by the driver.
export const Q = {
  lenderByKeyHash: `SELECT id, name, key_hash AS "keyHash", rate_per_second AS "ratePerSecond", created_at AS "createdAt"
    FROM lenders WHERE key_hash = $1`,
  submissionMeta: `SELECT input_commitment AS "inputCommitment", nullifier, decryption_key AS "decryptionKey",
    ciphertext IS NOT NULL AS live FROM submissions WHERE id = $1`,
  consentMeta: `SELECT id, submission_id AS "submissionId", lender_id AS "lenderId", purpose, expires_at AS "expiresAt",
    max_uses AS "maxUses", jws FROM consents WHERE id = $1`,
  // A scorer reads each job's submission (its ciphertext) once.
  submission: `SELECT id, ciphertext, input_commitment AS "inputCommitment", nullifier, owner_key AS "ownerKey",
    decryption_key AS "decryptionKey", created_at AS "createdAt", deleted_at AS "deletedAt" FROM submissions WHERE id = $1`,
  job: `SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`,
  jobByIdempotencyKey: `SELECT ${JOB_COLUMNS} FROM jobs WHERE lender_id = $1 AND idempotency_key = $2`,
  // Through jobs_by_lender, newest first; a page after the key (createdAt, id) compares the pair as a row.
  listJobs: `SELECT ${JOB_COLUMNS} FROM jobs WHERE lender_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
  listJobsBefore: `SELECT ${JOB_COLUMNS} FROM jobs WHERE lender_id = $1 AND (created_at, id) < ($3, $4)
    ORDER BY created_at DESC, id DESC LIMIT $2`,
  pendingJobs: `SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'accepted' ORDER BY created_at, id LIMIT $1`,
  pendingJobsAfter: `SELECT ${JOB_COLUMNS} FROM jobs WHERE state = 'accepted' AND (created_at, id) > ($2, $3)
    ORDER BY created_at, id LIMIT $1`,
  // Oldest first through jobs_claim; rows another instance is claiming right now are skipped, not waited for, so
  // two claims never return the same job and never queue behind each other.
  claimJobs: `WITH claimed AS (
      UPDATE jobs SET claimed_by = $2, lease_until = $3::bigint + $4::bigint
      WHERE id IN (
        SELECT id FROM jobs
        WHERE state = 'accepted' AND decryption_key = $1
          AND (claimed_by IS NULL OR lease_until < $3::bigint OR ($5::boolean AND claimed_by = $2))
        ORDER BY created_at, id LIMIT $6
        FOR UPDATE SKIP LOCKED)
      RETURNING ${JOB_COLUMNS})
    SELECT * FROM claimed ORDER BY "createdAt", id`,
  acceptJobs: `SELECT o_code AS code, o_created AS created, o_job AS job FROM props_accept_jobs($1::text::jsonb)`,
  completeJobs: `SELECT o_job_id AS "jobId", o_log_index AS "logIndex" FROM props_complete_jobs($1, $2, $3::text::jsonb)`,
  failJob: `WITH failed AS (
      UPDATE jobs SET state = 'failed', error_code = $2, updated_at = $3 WHERE id = $1 AND state = 'accepted' RETURNING id)
    SELECT pg_notify('props_finished', id) FROM failed`,
  takeRequests: `SELECT o_lender AS lender, o_granted AS granted FROM props_take_requests($1::text::jsonb)`,
  result: `SELECT r.job_id AS "jobId", r.attestation, r.log_id AS "logId", r.log_index AS "logIndex", h.head
    FROM results r LEFT JOIN result_heads h ON h.id = r.head_id WHERE r.job_id = $1`,
  firstValue: `INSERT INTO settings AS s (name, value) VALUES ($1, $2)
    ON CONFLICT (name) DO UPDATE SET value = s.value RETURNING s.value`,
  logLeaves: `SELECT struct_hash AS h FROM results WHERE log_id = $1 AND log_index >= $2 ORDER BY log_index`,
  // Tree heads: read and written once per appended batch (a head is signed after each), so fixed and prepared.
  treeHeadLatest: `SELECT tree_size AS "treeSize", root_hash AS "rootHash", timestamp, jws, chain_signature AS "chainSignature"
    FROM tree_heads WHERE log_id = $1 ORDER BY tree_size DESC LIMIT 1`,
  treeHeadAt: `SELECT tree_size AS "treeSize", root_hash AS "rootHash", timestamp, jws, chain_signature AS "chainSignature"
    FROM tree_heads WHERE log_id = $1 AND tree_size = $2`,
  putTreeHead: `INSERT INTO tree_heads (log_id, tree_size, root_hash, timestamp, jws, chain_signature)
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
  // A loose index scan of each primary key: one probe per log, however many entries each holds.
  logIds: `WITH RECURSIVE
      r(id) AS (SELECT min(log_id) FROM results
        UNION ALL SELECT (SELECT min(log_id) FROM results WHERE log_id > r.id) FROM r WHERE r.id IS NOT NULL),
      h(id) AS (SELECT min(log_id) FROM tree_heads
        UNION ALL SELECT (SELECT min(log_id) FROM tree_heads WHERE log_id > h.id) FROM h WHERE h.id IS NOT NULL)
    SELECT id FROM r WHERE id IS NOT NULL UNION SELECT id FROM h WHERE id IS NOT NULL ORDER BY id`,
} as const;
