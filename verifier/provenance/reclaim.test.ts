// Reclaim claims from fixtures/reclaim: identifier recomputed, witness recovered; tampering each signed field fails
// with its own code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reclaimIdentifier, verifyReclaim } from './index.ts';
import {
  basePolicy,
  FIXTURES,
  HAVE_RECLAIM,
  RECLAIM_CASES,
  RECLAIM_WITNESS,
  warnSkipped,
} from '../../testing/provenance.ts';

type Claim = {
  identifier: string;
  claimData: Record<string, unknown> & {
    parameters: string;
    context: string;
    owner: string;
    timestampS: number;
    identifier: string;
    provider: string;
  };
  signatures: string[];
};
const load = (file: string) => JSON.parse(readFileSync(join(FIXTURES, 'reclaim', file), 'utf8')) as Claim;
const at = (s: number) => new Date(s * 1000);

warnSkipped('Reclaim fixture tests', HAVE_RECLAIM);
describe.skipIf(!HAVE_RECLAIM)('reclaim fixtures', () => {
  for (const c of RECLAIM_CASES) {
    it(`${c.file}: recovers the witness`, async () => {
      const claim = load(c.file);
      expect(reclaimIdentifier(claim.claimData)).toBe(claim.identifier);
      await expect(
        verifyReclaim(claim, {
          policy: basePolicy({ reclaim: { hosts: [c.host], witnesses: [RECLAIM_WITNESS] } }),
          now: at(c.time),
        }),
      ).resolves.toMatchObject({
        kind: 'reclaim',
        signer: RECLAIM_WITNESS,
        host: c.host,
      });
    });
  }

  const gh = () => load('github-username_fuel-sdk.json');
  const opts = { policy: basePolicy(), now: at(1736693048) };

  it('reports the certified extracted parameters', async () => {
    await expect(verifyReclaim(gh(), opts)).resolves.toMatchObject({
      claims: { username: 'hadi-saleh14' },
      time: '2025-01-12T14:44:08Z',
    });
  });

  it('tampered owner: signature recovers to another address → untrusted witness', async () => {
    const c = gh();
    c.claimData.owner = '0x000000000000000000000000000000000000dead';
    await expect(verifyReclaim(c, opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_WITNESS_UNTRUSTED' });
  });

  it('tampered timestamp (making a claim look fresh) → untrusted witness', async () => {
    const c = gh();
    c.claimData.timestampS += 86400;
    await expect(verifyReclaim(c, { ...opts, now: at(1736693048 + 86400) })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_WITNESS_UNTRUSTED',
    });
  });

  it('tampered url with identifier recomputed → signature no longer from the witness', async () => {
    const c = gh();
    c.claimData.parameters = c.claimData.parameters.replace(
      'https://github.com/settings/profile',
      'https://evil.example/settings/profile',
    );
    c.claimData.identifier = c.identifier = reclaimIdentifier(c.claimData);
    await expect(verifyReclaim(c, opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_WITNESS_UNTRUSTED' });
  });

  it('tampered parameters with the old identifier → claim mismatch', async () => {
    const c = gh();
    c.claimData.parameters = c.claimData.parameters.replace('hadi-saleh14', 'other');
    await expect(verifyReclaim(c, opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_CLAIM_MISMATCH' });
  });

  it('malformed: missing signatures, broken context JSON', async () => {
    const c = gh();
    await expect(verifyReclaim({ ...c, signatures: [] }, opts)).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_MALFORMED',
    });
    const d = gh();
    d.claimData.context = '{not json';
    await expect(verifyReclaim(d, opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_MALFORMED' });
    await expect(verifyReclaim('nope', opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_MALFORMED' });
  });
});

// Claims signed here by a generated witness, to reach the host checks behind the signature check.
describe('reclaim host pinning (synthetic witness)', () => {
  async function signed(url: string) {
    const { privateKeyToAccount, generatePrivateKey } = await import('viem/accounts');
    const witness = privateKeyToAccount(generatePrivateKey());
    const claimData = {
      provider: 'http',
      parameters: JSON.stringify({ method: 'GET', url }),
      owner: '0x08b0292bef7ef2ef839d9f95b709401140ef0b7b',
      timestampS: 1_790_000_000,
      context: JSON.stringify({ extractedParameters: { balance: '1200' } }),
      identifier: '',
      epoch: 1,
    };
    claimData.identifier = reclaimIdentifier(claimData);
    const { reclaimSignedMessage } = await import('./index.ts');
    const signature = await witness.signMessage({ message: reclaimSignedMessage(claimData) });
    const policy = basePolicy({ reclaim: { hosts: ['bank.example'], witnesses: [witness.address] } });
    return {
      claim: { identifier: claimData.identifier, claimData, signatures: [signature] },
      opts: { policy, now: at(1_790_000_010) },
    };
  }

  it('accepts the exact host', async () => {
    const { claim, opts } = await signed('https://bank.example/api/balance');
    await expect(verifyReclaim(claim, opts)).resolves.toMatchObject({
      host: 'bank.example',
      claims: { balance: '1200' },
    });
  });

  it('wildcard claim covering another name is refused', async () => {
    const { claim, opts } = await signed('https://*.bank.example/api/balance');
    await expect(verifyReclaim(claim, opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_HOST_NOT_ALLOWED' });
  });

  it('templated host ({{param}}) is refused', async () => {
    const { claim, opts } = await signed('https://{{sub}}.bank.example/api/balance');
    await expect(verifyReclaim(claim, opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_HOST_NOT_ALLOWED' });
  });

  it('a sibling host and a non-https url are refused', async () => {
    for (const url of ['https://evil.bank.example/api', 'http://bank.example/api', 'https://bank.example:8443/api']) {
      const { claim, opts } = await signed(url);
      await expect(verifyReclaim(claim, opts), url).rejects.toMatchObject({ code: 'ERR_PROVENANCE_HOST_NOT_ALLOWED' });
    }
  });
});
