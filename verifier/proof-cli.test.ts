// `props proof verify` end to end through the command function: every tlsn and reclaim fixture gets its expected
// verdict and exit code, and the JOSE kinds work from files with keys given on the command line.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProofVerify } from './proof-cli.ts';
import {
  basePolicy,
  FIXTURES,
  HAVE_RECLAIM,
  HAVE_TLSN,
  makeAttestedFetch,
  makeKey,
  makeSignedSource,
  RECLAIM_CASES,
  RECLAIM_WITNESS,
  TLSN_CASES,
  warnSkipped,
} from '../testing/provenance.ts';

const iso = (s: number) => new Date(s * 1000).toISOString();
const tmp = mkdtempSync(join(tmpdir(), 'props-proof-cli-'));

warnSkipped('proof CLI fixture tests', HAVE_TLSN && HAVE_RECLAIM);
describe.skipIf(!HAVE_TLSN)('props proof verify: tlsn fixtures', () => {
  for (const c of TLSN_CASES) {
    it(`${c.file} → ${c.expect}`, async () => {
      // The trusted key is the fixture notary for every case; the untrusted-notary case must fail on policy.
      const trust =
        c.expect === 'ERR_PROVENANCE_NOTARY_UNTRUSTED'
          ? '0x037b48f19c139b6888fb5e383a4d72c2335186fd5858e7ae743ab4bf8e071b06e7'
          : c.notary;
      const { exit, result } = await runProofVerify([
        'verify',
        join(FIXTURES, 'tlsn', c.file),
        '--kind',
        'tlsn',
        '--trust',
        trust,
        '--host',
        c.host,
        '--now',
        iso(c.time),
        '--json',
      ]);
      if (c.expect === 'valid') {
        expect(exit).toBe(0);
        expect(result).toMatchObject({
          ok: true,
          kind: 'tlsn',
          signer: c.notary,
          host: c.host,
          time: iso(c.time).replace('.000Z', 'Z'),
          errors: [],
        });
      } else {
        expect(exit).toBe(1);
        expect(result).toMatchObject({ ok: false, kind: 'tlsn', errors: [{ code: c.expect }] });
      }
    });
  }

  it('a wrong --host fails with exit 1', async () => {
    const c = TLSN_CASES[3]!;
    const { exit, result } = await runProofVerify([
      'verify',
      join(FIXTURES, 'tlsn', c.file),
      '--kind',
      'tlsn',
      '--trust',
      c.notary,
      '--host',
      'api.lotr-api.online',
      '--now',
      iso(c.time),
      '--json',
    ]);
    expect(exit).toBe(1);
    expect(result.errors[0]?.code).toBe('ERR_PROVENANCE_HOST_NOT_ALLOWED');
  });
});

describe.skipIf(!HAVE_RECLAIM)('props proof verify: reclaim fixtures', () => {
  for (const c of RECLAIM_CASES) {
    it(`${c.file} → witness`, async () => {
      const { exit, result } = await runProofVerify([
        'verify',
        join(FIXTURES, 'reclaim', c.file),
        '--kind',
        'reclaim',
        '--trust',
        RECLAIM_WITNESS,
        '--now',
        iso(c.time),
        '--json',
      ]);
      expect(exit).toBe(0);
      expect(result).toMatchObject({ ok: true, signer: RECLAIM_WITNESS, host: c.host });
    });
  }

  it('tampered claim file → exit 1 with the claim-mismatch code', async () => {
    const claim = JSON.parse(readFileSync(join(FIXTURES, 'reclaim', RECLAIM_CASES[0].file), 'utf8')) as {
      claimData: { parameters: string };
    };
    claim.claimData.parameters = claim.claimData.parameters.replace('hadi-saleh14', 'x');
    const f = join(tmp, 'tampered.json');
    writeFileSync(f, JSON.stringify(claim));
    const { exit, result } = await runProofVerify([
      'verify',
      f,
      '--kind',
      'reclaim',
      '--trust',
      RECLAIM_WITNESS,
      '--now',
      iso(RECLAIM_CASES[0].time),
      '--json',
    ]);
    expect(exit).toBe(1);
    expect(result.errors[0]?.code).toBe('ERR_PROVENANCE_CLAIM_MISMATCH');
  });
});

describe('props proof verify: JOSE kinds and usage', () => {
  it('jws: a source-signed statement verifies with the JWK given inline, pinned to --host', async () => {
    const key = await makeKey('bank-2026');
    const f = join(tmp, 'statement.jws');
    writeFileSync(f, await makeSignedSource(key));
    const args = [
      'verify',
      f,
      '--kind',
      'jws',
      '--trust',
      JSON.stringify(key.jwk),
      '--host',
      'bank.example',
      '--now',
      iso(1_790_000_100),
      '--json',
    ];
    await expect(runProofVerify(args)).resolves.toMatchObject({
      exit: 0,
      result: { ok: true, signer: 'bank-2026', host: 'bank.example' },
    });
    const other = await makeKey('bank-2026');
    args[5] = JSON.stringify(other.jwk);
    await expect(runProofVerify(args)).resolves.toMatchObject({
      exit: 1,
      result: { errors: [{ code: 'ERR_PROVENANCE_SIGNATURE_INVALID' }] },
    });
  });

  it('a --trust file that is not a JWK or JWKS (null, a number, a list of nulls) is a usage error, exit 2', async () => {
    const f = join(tmp, 'statement-2.jws');
    writeFileSync(f, await makeSignedSource(await makeKey('bank-2026')));
    for (const text of ['null', '7', '{"keys":[null]}']) {
      const trust = join(tmp, 'trust-bad.json');
      writeFileSync(trust, text);
      await expect(
        runProofVerify(['verify', f, '--kind', 'jws', '--trust', trust, '--host', 'bank.example', '--json']),
      ).resolves.toMatchObject({
        exit: 2,
        result: { ok: false, errors: [{ code: 'ERR_PROVENANCE_POLICY_MALFORMED' }] },
      });
    }
  });

  it('jws: which issuer a key signs for is never guessed: no --host, or two keys under one kid, is a usage error, exit 2', async () => {
    const key = await makeKey('bank-2026');
    const f = join(tmp, 'statement-3.jws');
    writeFileSync(f, await makeSignedSource(key));
    const trust = JSON.stringify(key.jwk);
    await expect(runProofVerify(['verify', f, '--kind', 'jws', '--trust', trust, '--json'])).resolves.toMatchObject({
      exit: 2,
      result: { errors: [{ code: 'ERR_USAGE' }] },
    });
    const twin = JSON.stringify((await makeKey('bank-2026')).jwk);
    await expect(
      runProofVerify([
        'verify',
        f,
        '--kind',
        'jws',
        '--trust',
        trust,
        '--trust',
        twin,
        '--host',
        'bank.example',
        '--json',
      ]),
    ).resolves.toMatchObject({
      exit: 2,
      result: { errors: [{ code: 'ERR_PROVENANCE_POLICY_MALFORMED' }] },
    });
  });

  it("jws --policy: bank A's pinned key signing as bank B (source impersonation) fails with exit 1", async () => {
    const a = await makeKey('bank-a-1');
    const f = join(tmp, 'impersonation.jws');
    writeFileSync(f, await makeSignedSource(a, { iss: 'bank-b.example' }));
    const kids = [
      { kid: 'bank-a-1', issuers: ['bank-a.example'] },
      { kid: 'bank-b-1', issuers: ['bank-b.example'] },
    ];
    const policy = join(tmp, 'two-banks.json');
    writeFileSync(
      policy,
      JSON.stringify(
        basePolicy({
          signedSource: {
            hosts: ['bank-a.example', 'bank-b.example'],
            algorithms: ['ES256'],
            jwks: { keys: [a.jwk] },
            kids,
          },
        }),
      ),
    );
    await expect(
      runProofVerify(['verify', f, '--kind', 'jws', '--policy', policy, '--now', iso(1_790_000_100), '--json']),
    ).resolves.toMatchObject({
      exit: 1,
      result: { errors: [{ code: 'ERR_PROVENANCE_ISSUER_MISMATCH' }] },
    });
  });

  it('attested-fetch: an envelope with body verifies with a JWKS file', async () => {
    const key = await makeKey('enclave-jws-1');
    const { jws, body } = await makeAttestedFetch(key);
    const f = join(tmp, 'fetch.json');
    writeFileSync(
      f,
      JSON.stringify({ version: 1, kind: 'attested-fetch', jws, body: Buffer.from(body).toString('base64') }),
    );
    const jwks = join(tmp, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [key.jwk] }));
    await expect(
      runProofVerify([
        'verify',
        f,
        '--kind',
        'attested-fetch',
        '--trust',
        jwks,
        '--host',
        'bank.example',
        '--now',
        '2026-09-21T12:01:00Z',
        '--json',
      ]),
    ).resolves.toMatchObject({
      exit: 0,
      result: {
        ok: true,
        kind: 'attested-fetch',
        signer: 'enclave-jws-1',
        host: 'bank.example',
        time: '2026-09-21T12:00:00Z',
      },
    });
  });

  it('usage errors exit 2: unknown kind, missing --trust, unreadable file, bad --now, unknown option', async () => {
    const f = join(FIXTURES, 'reclaim', 'steam-id_wagmi-example.json');
    for (const argv of [
      ['verify', f, '--kind', 'zk', '--trust', RECLAIM_WITNESS, '--json'],
      ['verify', f, '--kind', 'reclaim', '--json'],
      ['verify', join(tmp, 'missing'), '--kind', 'reclaim', '--trust', RECLAIM_WITNESS, '--json'],
      ['verify', f, '--kind', 'reclaim', '--trust', RECLAIM_WITNESS, '--now', 'yesterday', '--json'],
      ['verify', f, '--kind', 'reclaim', '--trust', RECLAIM_WITNESS, '--bogus', '--json'],
      ['verify', f, '--kind', 'reclaim', '--trust', 'not-an-address', '--json'],
    ]) {
      const { exit, result } = await runProofVerify(argv);
      expect(exit, argv.join(' ')).toBe(2);
      expect(result.ok).toBe(false);
    }
  });
});
