// kill -9 during a run of scoring jobs, then restart: every accepted job finishes exactly once — no lost job, no
// duplicate result or log leaf. Runs `props serve` as a real child process on a file database; clients that lost
// their answer in the crash retry with the same idempotency key, as the API asks them to.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../enclave/index.ts';
import { bankTrust, submitViaOracle } from '../testing/service.ts';

const ADMIN = 'crash-test-admin-token-0001';
const BIN = fileURLToPath(new URL('../bin/props.js', import.meta.url));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

async function start(
  db: string,
  provenancePolicy: string,
  resultSigning: 'each' | 'batch',
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--port',
      '0',
      '--db',
      db,
      '--rate',
      '100000',
      '--borrower-cap',
      '100000',
      '--quiet',
      '--provenance-policy',
      provenancePolicy,
      '--result-signing',
      resultSigning,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, PROPS_ADMIN_TOKEN: ADMIN },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n') && line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
  return { child, url };
}

const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('crash safety (real child process, kill -9)', () => {
  it.each(['each', 'batch'] as const)(
    'every accepted job is finished exactly once after kill -9 and restart (--result-signing %s)',
    async (mode) => {
      const dir = mkdtempSync(join(tmpdir(), 'props-crash-'));
      const db = join(dir, 'props.db');
      const bank = await bankTrust();
      const policyPath = join(dir, 'provenance-policy.json');
      writeFileSync(policyPath, JSON.stringify(bank.policy));
      let { child, url } = await start(db, policyPath, mode);
      const admin = { authorization: `Bearer ${ADMIN}` };
      const lender = (await (await post(url, '/v1/admin/lenders', { name: 'crash' }, admin)).json()) as {
        lenderId: string;
        apiKey: string;
      };
      const auth = { authorization: `Bearer ${lender.apiKey}` };
      // The data owner's side exactly as the oracle client does it (checked enclave, JWE, signed consent).
      const { consentId, submitStatus, consentStatus, inputCommitment, owner } = await submitViaOracle(url, bank.key, {
        lender: lender.lenderId,
        maxUses: 1000,
      });
      expect([submitStatus, consentStatus]).toEqual([201, 201]);

      const N = 150;
      const reqs = Array.from({ length: N }, (_, i) => ({
        key: `crash-idem-${i.toString().padStart(4, '0')}`,
        body: { consentId, nonce: `0x${(i + 1).toString(16).padStart(64, '0')}` },
      }));
      const answered = new Map<string, { status: number; jobId?: string }>();
      let killed = false;
      const inflight = reqs.map(async (r) => {
        try {
          const res = await post(url, '/v1/jobs', r.body, { ...auth, 'idempotency-key': r.key });
          const j = (await res.json()) as { jobId?: string };
          answered.set(r.key, { status: res.status, ...(j.jobId ? { jobId: j.jobId } : {}) });
          if (answered.size >= 10 && !killed) {
            killed = true;
            child.kill('SIGKILL');
          }
        } catch {
          // connection lost in the crash: the outcome is unknown to this client
        }
      });
      await Promise.all(inflight);
      expect(killed).toBe(true);
      await new Promise((r) =>
        child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
      );

      // What the crash left behind: jobs accepted but not finished (redone at start), all inside one WAL database.
      const before = new Database(db);
      const pendingAtCrash = (
        before.prepare("select count(*) n from jobs where state = 'accepted'").get() as { n: number }
      ).n;
      before.close();
      console.info(
        `crash test: ${answered.size} answered before kill -9, ${pendingAtCrash} accepted jobs unfinished at the crash`,
      );

      ({ child, url } = await start(db, policyPath, mode));
      // Clients without an answer retry under the same idempotency key: accepted-before-crash jobs come back (200).
      const jobIds = new Set<string>();
      for (const [, a] of answered) if (a.jobId) jobIds.add(a.jobId);
      for (const r of reqs) {
        if (answered.get(r.key)?.jobId) continue;
        const res = await post(url, '/v1/jobs', r.body, { ...auth, 'idempotency-key': r.key });
        const j = (await res.json()) as { jobId?: string; code?: string };
        expect([200, 201, 202], j.code).toContain(res.status);
        jobIds.add(j.jobId as string);
      }
      expect(jobIds.size).toBe(N);

      for (const id of jobIds) {
        const j = (await (await fetch(`${url}/v1/jobs/${id}`, { headers: auth })).json()) as {
          state: string;
          attestation: { head?: unknown; jws?: unknown };
        };
        expect(j.state, JSON.stringify(j)).toBe('done');
        // Read back from the store: a batched result with its batch's head put back, a single one with its JWS.
        expect(typeof (mode === 'batch' ? j.attestation.head : j.attestation.jws)).toBe('string');
      }
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));

      ({ child, url } = await start(db, policyPath, mode));
      // The data owner can still grant consents for a submission made before a clean restart, with no job left to
      // re-open it (the service finds it in the store by the inputs the consent names, and checks the owner key bound then).
      const lender2 = (await (await post(url, '/v1/admin/lenders', { name: 'after-restart' }, admin)).json()) as {
        lenderId: string;
      };
      const { grantConsent } = await import('../oracle/index.ts');
      const later = await grantConsent(
        {
          lender: lender2.lenderId,
          purpose: 'credit-scoring',
          expiry: new Date(Date.now() + 86_400_000),
          maxUses: 3,
          inputCommitment,
        },
        owner,
        { now: () => new Date() },
      );
      const laterRes = await post(url, '/v1/consents', { consent: later.jws });
      expect(laterRes.status, JSON.stringify(await laterRes.clone().json())).toBe(201);
      // Consent forged for the same inputs by another owner key: refused (ERR_CONSENT_SIGNATURE_INVALID).
      const { generateOwnerKey } = await import('../oracle/index.ts');
      const stranger = await grantConsent(
        {
          lender: lender2.lenderId,
          purpose: 'credit-scoring',
          expiry: new Date(Date.now() + 86_400_000),
          maxUses: 3,
          inputCommitment,
        },
        (await generateOwnerKey()).key,
        { now: () => new Date() },
      );
      const strangerRes = await post(url, '/v1/consents', { consent: stranger.jws });
      expect(strangerRes.status).toBeGreaterThanOrEqual(400);
      expect(((await strangerRes.json()) as { code: string }).code).toBe('ERR_CONSENT_SIGNATURE_INVALID');
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));

      const sql = new Database(db, { readonly: true });
      const one = (q: string) => (sql.prepare(q).get() as { n: number }).n;
      expect(one('select count(*) n from jobs')).toBe(N);
      expect(one("select count(*) n from jobs where state = 'done'")).toBe(N);
      expect(one('select count(*) n from results')).toBe(N);
      // One log entry per job, at indices 0..N-1, and each done job names its own.
      expect(one('select count(distinct job_id) n from results')).toBe(N);
      expect(one('select max(log_index) n from results')).toBe(N - 1);
      expect(one('select count(*) n from jobs j join results r on r.log_index = j.log_index and r.job_id = j.id')).toBe(
        N,
      );
      // Batched results name their batch's head, stored once a batch; single results have none.
      expect(one('select count(*) n from results where head_id is not null')).toBe(mode === 'batch' ? N : 0);
      expect(one('select count(*) n from result_heads')).toBe(
        mode === 'batch' ? one('select count(distinct head_id) n from results') : 0,
      );
      expect(one(`select count(*) n from consents where uses = ${N}`)).toBe(1);
      expect(one('select count(*) n from consents')).toBe(2);
      sql.close();
    },
    120_000,
  );
});
