// Reclaim claims from fixtures/reclaim: identifier recomputed, witness recovered; tampering each signed field fails
// with its own code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reclaimIdentifier, verifyReclaim } from './index.ts';
import { basePolicy, FIXTURES, HAVE_RECLAIM, RECLAIM_CASES, RECLAIM_WITNESS, warnSkipped } from './test-helpers.ts';

type Claim = { identifier: string; claimData: Record<string, unknown> & { parameters: string; context: string; owner: string; timestampS: number; identifier: string; provider: string }; signatures: string[] };
const load = (file: string) => JSON.parse(readFileSync(join(FIXTURES, 'reclaim', file), 'utf8')) as Claim;
const at = (s: number) => new Date(s * 1000);

warnSkipped('Reclaim fixture tests', HAVE_RECLAIM);
describe.skipIf(!HAVE_RECLAIM)('reclaim fixtures', () => {
  for (const c of RECLAIM_CASES) {
    it(`${c.file}: recovers the witness`, async () => {
      const claim = load(c.file);
      expect(reclaimIdentifier(claim.claimData)).toBe(claim.identifier);
      await expect(verifyReclaim(claim, { policy: basePolicy({ reclaim: { hosts: [c.host], witnesses: [RECLAIM_WITNESS] } }), now: at(c.time) })).resolves.toMatchObject({
        kind: 'reclaim',
        signer: RECLAIM_WITNESS,
        host: c.host,
      });
    });
  }

  const gh = () => load('github-username_fuel-sdk.json');
  const opts = { policy: basePolicy(), now: at(1736693048) };

  it('reports the certified extracted parameters', async () => {
    await expect(verifyReclaim(gh(), opts)).resolves.toMatchObject({ claims: { username: 'hadi-saleh14' }, time: '2025-01-12T14:44:08Z' });
  });

  it('tampered owner: signature recovers to another address → untrusted witness', async () => {
    const c = gh();
    c.claimData.owner = '0x000000000000000000000000000000000000dead';
    await expect(verifyReclaim(c, opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_WITNESS_UNTRUSTED' });
  });

  it('tampered timestamp (making a claim look fresh) → untrusted witness', async () => {
    const c = gh();
    c.claimData.timestampS += 86400;
    await expect(verifyReclaim(c, { ...opts, now: at(1736693048 + 86400) })).rejects.toMatchObject({ code: 'ERR_PROVENANCE_WITNESS_UNTRUSTED' });
  });

  it('tampered url with identifier recomputed → signature no longer from the witness', async () => {
    const c = gh();
    c.claimData.parameters = c.claimData.parameters.replace('https://github.com/settings/profile', 'https://evil.example/settings/profile');
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
    await expect(verifyReclaim({ ...c, signatures: [] }, opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_MALFORMED' });
    const d = gh();
    d.claimData.context = '{not json';
    await expect(verifyReclaim(d, opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_MALFORMED' });
    await expect(verifyReclaim('nope', opts)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_MALFORMED' });
  });
});
