-- The store's multi-row operations as functions, so that each costs one round trip: a group of job acceptances, a
-- batch of completions, a turn's rate-limit draws. Each runs as one statement in its own transaction at READ
-- COMMITTED: every statement inside sees what committed before it started, and row locks decide between instances.

-- Job acceptance, group-committed: a call takes the acceptances of one event-loop turn and answers each in order, as
-- if they had run one after another: a refusal's code, or whether the job was created and (for a repeat) the stored
-- job. Per input: the job row first (a repeat of its idempotency key, a spent nonce or a taken escrow job leave it
-- out), then the consent's use, the submission, the borrower's count. A refused input leaves no trace: its job row is
-- deleted again (which frees its nonce) and what it counted is taken back before the call writes it.
-- No subtransaction per input: a consent or borrower that many inputs share is written at its first use and once more
-- at the end with the call's count, instead of gaining a row version per input, each of another subtransaction, which
-- concurrent calls then had to resolve one by one.
-- Instances hear of new jobs for a decryption key through props_accepted, sent on commit.
CREATE OR REPLACE FUNCTION props_accept_jobs(p_inputs jsonb)
RETURNS TABLE (o_code text, o_created boolean, o_job jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
  j jobs;
  v_existing jobs;
  v_rows integer;
  v_now bigint;
  v_window bigint;
  v_cap integer;
  v_uses integer;
  v_max integer;
  v_submission text;
  v_nullifier text;
  v_start bigint;
  v_count integer;
  ci integer;
  bi integer;
  -- The consents this call used (each locked by its first use): uses as counted so far, max_uses, submission, and
  -- whether the row lags behind the count.
  c_ids text[] := '{}';
  c_uses integer[] := '{}';
  c_max integer[] := '{}';
  c_subs text[] := '{}';
  c_stale boolean[] := '{}';
  -- The borrowers likewise: window start and count so far, and whether the row lags behind them.
  b_ids text[] := '{}';
  b_starts bigint[] := '{}';
  b_counts integer[] := '{}';
  b_stale boolean[] := '{}';
  v_keys text[] := '{}';
BEGIN
  -- The consent and borrower rows this call may write, locked up front in key order. Locked at first use instead (in
  -- each call's arrival order), two instances' calls sharing two consents deadlocked, and one of them failed.
  PERFORM 1 FROM consents
    WHERE id IN (SELECT x ->> 'consent_id' FROM jsonb_array_elements(p_inputs) AS x)
    ORDER BY id FOR NO KEY UPDATE;
  PERFORM 1 FROM borrower_queries
    WHERE nullifier IN (
      SELECT s.nullifier FROM consents c JOIN submissions s ON s.id = c.submission_id
      WHERE c.id IN (SELECT x ->> 'consent_id' FROM jsonb_array_elements(p_inputs) AS x))
    ORDER BY nullifier FOR NO KEY UPDATE;
  FOR i IN 0 .. jsonb_array_length(p_inputs) - 1 LOOP
    e := p_inputs -> i;
    j := jsonb_populate_record(NULL::jobs, e);
    v_now := (e ->> 'now')::bigint;
    v_window := (e ->> 'window')::bigint;
    v_cap := (e ->> 'cap')::integer;
    o_code := NULL;
    o_created := false;
    o_job := NULL;
    -- Any unique index may keep the row out; which one decides the answer, in the embedded store's order.
    INSERT INTO jobs VALUES (j.*) ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rows = 0 THEN
      SELECT * INTO v_existing FROM jobs WHERE lender_id = j.lender_id AND idempotency_key = j.idempotency_key;
      IF FOUND THEN
        IF v_existing.request_hash <> j.request_hash THEN
          o_code := 'ERR_IDEMPOTENCY_CONFLICT';
        ELSE
          o_job := to_jsonb(v_existing);
        END IF;
      ELSIF EXISTS (SELECT 1 FROM jobs WHERE lender_id = j.lender_id AND nonce = j.nonce) THEN
        o_code := 'ERR_NONCE_REPLAYED';
      ELSIF j.escrow_job_id IS NOT NULL THEN
        o_code := 'ERR_ESCROW_JOB_TAKEN';
      ELSE
        o_code := 'ERR_STORE_FAILED';
      END IF;
      RETURN NEXT;
      CONTINUE;
    END IF;

    -- The consent's use: the first in this call is written at once (it also locks the row), later ones are counted.
    ci := array_position(c_ids, j.consent_id);
    IF ci IS NULL THEN
      UPDATE consents SET uses = uses + 1 WHERE id = j.consent_id AND uses < max_uses
        RETURNING uses, max_uses, submission_id INTO v_uses, v_max, v_submission;
      IF FOUND THEN
        c_ids := c_ids || j.consent_id;
        c_uses := c_uses || v_uses;
        c_max := c_max || v_max;
        c_subs := c_subs || v_submission;
        c_stale := c_stale || false;
        ci := cardinality(c_ids);
      ELSIF EXISTS (SELECT 1 FROM consents WHERE id = j.consent_id) THEN
        o_code := 'ERR_CONSENT_EXHAUSTED';
      ELSE
        o_code := 'ERR_CONSENT_NOT_FOUND';
      END IF;
    ELSIF c_uses[ci] >= c_max[ci] THEN
      o_code := 'ERR_CONSENT_EXHAUSTED';
    ELSE
      c_uses[ci] := c_uses[ci] + 1;
      c_stale[ci] := true;
    END IF;

    IF o_code IS NULL THEN
      SELECT nullifier INTO v_nullifier FROM submissions WHERE id = c_subs[ci] AND ciphertext IS NOT NULL;
      IF NOT FOUND THEN
        o_code := 'ERR_SUBMISSION_NOT_FOUND';
      END IF;
    END IF;

    -- The borrower's count in its window after this query: a window that has run out starts over at this one. The
    -- first query in this call is written at once unless it passes the cap (then the row, locked, stays as it was).
    IF o_code IS NULL THEN
      bi := array_position(b_ids, v_nullifier);
      IF bi IS NULL THEN
        INSERT INTO borrower_queries AS b (nullifier, window_start, count) VALUES (v_nullifier, v_now, 1)
        ON CONFLICT (nullifier) DO UPDATE SET
          window_start = CASE WHEN b.window_start + v_window <= v_now THEN v_now ELSE b.window_start END,
          count = CASE WHEN b.window_start + v_window <= v_now THEN 1 ELSE b.count + 1 END
        WHERE CASE WHEN b.window_start + v_window <= v_now THEN 1 ELSE b.count + 1 END <= v_cap
        RETURNING b.window_start, b.count INTO v_start, v_count;
        IF NOT FOUND THEN
          -- Over the cap: the row was locked but not written; later queries in this call count from it.
          SELECT window_start, count INTO v_start, v_count FROM borrower_queries WHERE nullifier = v_nullifier;
          o_code := 'ERR_BORROWER_QUERY_CAP';
        ELSIF v_count > v_cap THEN
          -- A first query ever, over a cap below one: there was no row, and there is none.
          DELETE FROM borrower_queries WHERE nullifier = v_nullifier;
          o_code := 'ERR_BORROWER_QUERY_CAP';
          v_nullifier := NULL;
        END IF;
        IF v_nullifier IS NOT NULL THEN
          b_ids := b_ids || v_nullifier;
          b_starts := b_starts || v_start;
          b_counts := b_counts || v_count;
          b_stale := b_stale || false;
        END IF;
      ELSE
        IF b_starts[bi] + v_window <= v_now THEN
          v_start := v_now;
          v_count := 1;
        ELSE
          v_start := b_starts[bi];
          v_count := b_counts[bi] + 1;
        END IF;
        IF v_count > v_cap THEN
          o_code := 'ERR_BORROWER_QUERY_CAP';
        ELSE
          b_starts[bi] := v_start;
          b_counts[bi] := v_count;
          b_stale[bi] := true;
        END IF;
      END IF;
    END IF;

    IF o_code IS NULL THEN
      o_created := true;
      -- Only a job no instance claimed at acceptance (accepted by one that cannot decrypt it) is announced: NOTIFY
      -- serializes commits cluster-wide, and a job claimed by its own acceptor needs nobody told.
      IF j.claimed_by IS NULL AND NOT j.decryption_key = ANY (v_keys) THEN
        v_keys := v_keys || j.decryption_key;
      END IF;
    ELSE
      DELETE FROM jobs WHERE id = j.id;
      IF ci IS NOT NULL AND o_code IN ('ERR_SUBMISSION_NOT_FOUND', 'ERR_BORROWER_QUERY_CAP') THEN
        c_uses[ci] := c_uses[ci] - 1;
        c_stale[ci] := true;
      END IF;
    END IF;
    RETURN NEXT;
  END LOOP;

  FOR k IN 1 .. cardinality(c_ids) LOOP
    IF c_stale[k] THEN
      UPDATE consents SET uses = c_uses[k] WHERE id = c_ids[k];
    END IF;
  END LOOP;
  FOR k IN 1 .. cardinality(b_ids) LOOP
    IF b_stale[k] THEN
      UPDATE borrower_queries SET window_start = b_starts[k], count = b_counts[k] WHERE nullifier = b_ids[k];
    END IF;
  END LOOP;
  PERFORM pg_notify('props_accepted', key) FROM unnest(v_keys) AS key;
END;
$$;
--> statement-breakpoint

-- Completion of a batch in log p_log: under the log's transaction-scoped advisory lock (so concurrent batches of one
-- log take consecutive indexes), each job still accepted moves to done at the log's next index and gets its result
-- there; a job no longer accepted (done elsewhere, failed, repeated in the batch) is skipped. Two instances finishing
-- the same job serialize on its row: the second re-reads it as done and skips it. Each batch head is stored once, when
-- the first of its results is. p_items: the CompletedJob values, [{"jobId", "structHash", "attestation", "head"?}].
-- Returns the stored jobs and their indexes; props_finished names them on commit.
CREATE OR REPLACE FUNCTION props_complete_jobs(p_log text, p_now bigint, p_items jsonb)
RETURNS TABLE (o_job_id text, o_log_index bigint)
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
  v_next bigint;
  v_head text;
  v_head_id bigint;
  v_pos integer;
  v_heads text[] := '{}';
  v_head_ids bigint[] := '{}';
  v_ids text := '';
BEGIN
  -- 1886547824: the store's advisory lock class ('prop'), keeping these keys apart from any other user's.
  PERFORM pg_advisory_xact_lock(1886547824, hashtext(p_log));
  SELECT coalesce(max(log_index) + 1, 0) INTO v_next FROM results WHERE log_id = p_log;
  FOR i IN 0 .. jsonb_array_length(p_items) - 1 LOOP
    e := p_items -> i;
    UPDATE jobs SET state = 'done', log_id = p_log, log_index = v_next, updated_at = p_now
      WHERE id = e ->> 'jobId' AND state = 'accepted';
    CONTINUE WHEN NOT FOUND;
    v_head := e ->> 'head';
    v_head_id := NULL;
    IF v_head IS NOT NULL THEN
      v_pos := array_position(v_heads, v_head);
      IF v_pos IS NULL THEN
        INSERT INTO result_heads (head) VALUES (v_head) RETURNING id INTO v_head_id;
        v_heads := v_heads || v_head;
        v_head_ids := v_head_ids || v_head_id;
      ELSE
        v_head_id := v_head_ids[v_pos];
      END IF;
    END IF;
    INSERT INTO results (log_id, log_index, job_id, struct_hash, attestation, head_id)
      VALUES (p_log, v_next, e ->> 'jobId', e ->> 'structHash', e ->> 'attestation', v_head_id);
    o_job_id := e ->> 'jobId';
    o_log_index := v_next;
    RETURN NEXT;
    v_next := v_next + 1;
    -- A notification's payload is limited to 8,000 bytes: long batches are named in several.
    IF octet_length(v_ids) + octet_length(o_job_id) > 7000 THEN
      PERFORM pg_notify('props_finished', v_ids);
      v_ids := '';
    END IF;
    v_ids := CASE WHEN v_ids = '' THEN o_job_id ELSE v_ids || ',' || o_job_id END;
  END LOOP;
  IF v_ids <> '' THEN
    PERFORM pg_notify('props_finished', v_ids);
  END IF;
END;
$$;
--> statement-breakpoint

-- A turn's rate-limit draws: one element per (lender, time), {"lender", "rate", "asks", "now"}, in the order given
-- (callers sort them by lender, so two instances lock rows in one order). The lender's bucket refills at `rate`
-- tokens a second up to `rate` (one second's burst; a new bucket starts full), then grants up to `asks` whole tokens.
-- The bucket's clock never runs back, whatever an instance's clock says.
CREATE OR REPLACE FUNCTION props_take_requests(p_draws jsonb)
RETURNS TABLE (o_lender text, o_granted integer)
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb;
  v_tokens double precision;
BEGIN
  -- A token bucket needs no durability: a draw lost in a crash only lets a lender a few more requests. Committed
  -- without waiting for the WAL flush, the bucket's row lock (which every instance's draws for a lender queue on) is
  -- held for the statement, not for an fsync.
  PERFORM set_config('synchronous_commit', 'off', true);
  FOR i IN 0 .. jsonb_array_length(p_draws) - 1 LOOP
    e := p_draws -> i;
    o_lender := e ->> 'lender';
    INSERT INTO lender_rate AS r (lender_id, tokens, at_ms) VALUES (o_lender, (e ->> 'rate')::double precision, (e ->> 'now')::bigint)
    ON CONFLICT (lender_id) DO UPDATE SET
      tokens = least(excluded.tokens, r.tokens + greatest(0, excluded.at_ms - r.at_ms) * excluded.tokens / 1000.0),
      at_ms = greatest(r.at_ms, excluded.at_ms)
    RETURNING r.tokens INTO v_tokens;
    o_granted := least((e ->> 'asks')::integer, greatest(0, floor(v_tokens)))::integer;
    IF o_granted > 0 THEN
      UPDATE lender_rate SET tokens = tokens - o_granted WHERE lender_id = o_lender;
    END IF;
    RETURN NEXT;
  END LOOP;
END;
$$;
