// `props oracle` as a user runs it (in-process, with the evidence verifier and the enclave endpoint injected).
import { mkdtemp, readFile, writeFile, access, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBankPortal, type BankPortal } from '../sim/bank/portal.ts';
import { sampleStatement } from '../sim/bank/sample.ts';
import { decryptSubmission, signReceipt } from '../enclave/ingest.ts';
import { fakeEnclave, type FakeEnclave } from './helpers/fake-enclave.ts';
import { makeOracleCommand, type OracleCliDeps } from '../oracle/cli.ts';
import type { FetchLike } from '../oracle/submit.ts';

const TOKEN = 'tok_cli_P0o9I8u7Y6t5';
const NOW = new Date('2026-11-22T04:00:00.000Z');
let dir: string;
let portal: BankPortal;
let enc: FakeEnclave;

function run(argv: string[], over: Partial<OracleCliDeps> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const endpoint: FetchLike = async (_u, init) => {
    const accepted = await decryptSubmission((JSON.parse(init.body) as { jwe: string }).jwe, enc.decryptionKey, {
      expectedKid: enc.encryptionKey.kid,
      evidenceDigest: enc.evidenceDigest,
      seenSubmissionIds: new Set(),
      verifyProvenance: async () => null,
      now: () => NOW,
    });
    return {
      status: 200,
      text: async () => JSON.stringify({ receipt: (await signReceipt(accepted, enc.signer, () => NOW)).jws }),
    };
  };
  const deps: OracleCliDeps = {
    loadVerifyEvidence: async () => enc.verifyOk,
    fetch: endpoint,
    now: () => NOW,
    env: { PROPS_BANK_TOKEN: TOKEN },
    stdout: (s) => void out.push(s),
    stderr: (s) => void err.push(s),
    ...over,
  };
  return makeOracleCommand(deps)
    .run(argv)
    .then((code) => ({
      code,
      out: out.join(''),
      err: err.join(''),
      json: () => JSON.parse(out.join('')) as Record<string, unknown>,
    }));
}

const f = (n: string) => join(dir, n);
const enclaveArgs = () => [
  '--evidence',
  f('evidence.json'),
  '--manifest',
  f('manifest.json'),
  '--policy',
  f('policy.json'),
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'props-oracle-'));
  portal = await startBankPortal({
    statementFor: sampleStatement,
    accounts: [{ accountId: 'acc-1', token: TOKEN }],
    now: () => NOW,
  });
  enc = await fakeEnclave();
  await writeFile(f('evidence.json'), JSON.stringify(enc.evidence));
  await writeFile(f('manifest.json'), JSON.stringify(enc.manifest));
  await writeFile(f('policy.json'), JSON.stringify(enc.policy));
  await writeFile(f('ca.pem'), portal.caPem);
});
afterAll(() => portal.close());

describe('props oracle', () => {
  it('keygen, fetch, encrypt, submit, consent — the happy path', async () => {
    expect((await run(['keygen', '--out', f('owner.json'), '--json'])).code).toBe(0);
    const fetched = await run([
      'fetch',
      '--url',
      portal.statementUrl('acc-1'),
      '--ca',
      f('ca.pem'),
      '--route',
      `${portal.host}=127.0.0.1:${portal.port}`,
      '--out',
      f('proof.json'),
      '--json',
    ]);
    expect(fetched.code).toBe(0);
    expect(fetched.json()).toMatchObject({ ok: true, kind: 'signed-source', host: 'bank.props.test', transactions: 6 });
    expect(fetched.out).not.toContain(TOKEN);

    const enc1 = await run([
      'encrypt',
      ...enclaveArgs(),
      '--key',
      f('owner.json'),
      '--proof',
      f('proof.json'),
      '--out',
      f('sub.json'),
      '--json',
    ]);
    expect(enc1.code).toBe(0);
    expect(JSON.parse(await readFile(f('sub.json'), 'utf8'))).toMatchObject({
      kind: 'props-submission-envelope',
      evidenceDigest: enc.evidenceDigest,
    });

    const sub = await run([
      'submit',
      ...enclaveArgs(),
      '--key',
      f('owner.json'),
      '--proof',
      f('proof.json'),
      '--to',
      'https://enclave.test/v1/submissions',
      '--receipt-out',
      f('receipt.json'),
      '--json',
    ]);
    expect(sub.code).toBe(0);
    const receipt = JSON.parse(await readFile(f('receipt.json'), 'utf8')) as { receipt: { inputCommitment: string } };
    expect(sub.json().inputCommitment).toBe(receipt.receipt.inputCommitment);

    const consent = await run([
      'consent',
      '--key',
      f('owner.json'),
      '--lender',
      'lender.acme-bank',
      '--days',
      '30',
      '--max-uses',
      '2',
      '--receipt',
      f('receipt.json'),
      '--out',
      f('consent.json'),
      '--json',
    ]);
    expect(consent.code).toBe(0);
    expect(consent.json()).toMatchObject({ lender: 'lender.acme-bank', maxUses: 2, exp: '2026-12-22T04:00:00.000Z' });
  });

  it('refuses to encrypt for an enclave whose evidence fails: exit 1, coded, nothing written, nothing sent', async () => {
    await run(['keygen', '--out', f('owner2.json')]);
    await writeFile(
      f('proof2.json'),
      JSON.stringify({ version: 1, kind: 'signed-source', jws: 'eyJhIjoxfQ.eyJiIjoxfQ.c2ln' }),
    );
    const fetch = vi.fn<FetchLike>();
    const r = await run(
      [
        'submit',
        ...enclaveArgs(),
        '--key',
        f('owner2.json'),
        '--proof',
        f('proof2.json'),
        '--to',
        'https://enclave.test/x',
        '--receipt-out',
        f('r2.json'),
        '--json',
      ],
      {
        loadVerifyEvidence: async () => enc.verifyFail,
        fetch,
      },
    );
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, errors: [{ code: 'ERR_ORACLE_EVIDENCE_REJECTED' }] });
    expect(fetch).not.toHaveBeenCalled();
    await expect(access(f('r2.json'))).rejects.toThrow();
  });

  it('without an evidence verifier it refuses (exit 2), never encrypts unchecked', async () => {
    await run(['keygen', '--out', f('owner3.json')]);
    await writeFile(
      f('proof3.json'),
      JSON.stringify({ version: 1, kind: 'signed-source', jws: 'eyJhIjoxfQ.eyJiIjoxfQ.c2ln' }),
    );
    const r = await run(
      [
        'encrypt',
        ...enclaveArgs(),
        '--key',
        f('owner3.json'),
        '--proof',
        f('proof3.json'),
        '--out',
        f('s3.json'),
        '--json',
      ],
      {
        loadVerifyEvidence: async () => {
          throw new (await import('../protocol/index.ts')).PropsError('ERR_ORACLE_VERIFIER_UNAVAILABLE');
        },
      },
    );
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ errors: [{ code: 'ERR_ORACLE_VERIFIER_UNAVAILABLE' }] });
    await expect(access(f('s3.json'))).rejects.toThrow();
  });

  it('usage errors exit 2; a refused token exits 1 and is never printed', async () => {
    expect((await run(['fetch', '--nope'])).code).toBe(2);
    expect((await run(['consent', '--key', f('owner.json'), '--out', f('c.json')])).code).toBe(2);
    const r = await run(
      [
        'fetch',
        '--url',
        portal.statementUrl('acc-1'),
        '--ca',
        f('ca.pem'),
        '--route',
        `${portal.host}=127.0.0.1:${portal.port}`,
        '--out',
        f('p.json'),
      ],
      { env: { PROPS_BANK_TOKEN: `${TOKEN}-bad` } },
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain('ERR_FETCH_SOURCE_REFUSED');
    expect(r.err + r.out).not.toContain(TOKEN);
  });

  it('keygen over an existing world-readable file leaves the private key readable by its owner only', async () => {
    await writeFile(f('old-key.json'), 'placeholder', { mode: 0o644 });
    expect((await run(['keygen', '--out', f('old-key.json')])).code).toBe(0);
    expect((await stat(f('old-key.json'))).mode & 0o777).toBe(0o600);
  });

  it('a URL that does not parse and a token no header can carry are refused by code, quoting neither', async () => {
    const bad = await run([
      'fetch',
      '--url',
      `https://bank.props.test:99999/x?token=${TOKEN}`,
      '--ca',
      f('ca.pem'),
      '--out',
      f('p2.json'),
      '--json',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.json()).toMatchObject({ ok: false, errors: [{ code: 'ERR_FETCH_URL_NOT_ALLOWED' }] });
    expect(bad.out + bad.err).not.toContain(TOKEN);
    const crlf = await run(
      ['fetch', '--url', portal.statementUrl('acc-1'), '--ca', f('ca.pem'), '--out', f('p3.json'), '--json'],
      { env: { PROPS_BANK_TOKEN: `${TOKEN}\r\nX-Injected: 1` } },
    );
    expect(crlf.json()).toMatchObject({ ok: false, errors: [{ code: 'ERR_INPUT_MALFORMED' }] });
    expect(crlf.out + crlf.err).not.toContain(TOKEN);
  });
});
