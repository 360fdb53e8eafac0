// The shared behaviour suite: every provenance kind must accept its valid proof and refuse a tampered one, an
// untrusted signer, a wrong host and a stale proof — each with its own stable code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64, type ErrorCode } from '../../protocol/index.ts';
import {
  verifyAttestedFetch,
  verifyReclaim,
  verifySignedSource,
  verifyTlsn,
  type ProvenancePolicy,
  type ProvenanceVerdict,
} from './index.ts';
import {
  basePolicy,
  FIXTURES,
  HAVE_RECLAIM,
  HAVE_TLSN,
  makeAttestedFetch,
  makeKey,
  makeSignedSource,
  NOTARY,
  RECLAIM_WITNESS,
  warnSkipped,
} from '../../testing/provenance.ts';

type Adapter = {
  kind: ProvenanceVerdict['kind'];
  available: boolean;
  /** A valid proof, the policy that trusts it, and a `now` at which it is fresh. */
  valid(): Promise<{ input: unknown; policy: ProvenancePolicy; now: Date; host: string; signer: string }>;
  tamper(input: unknown): Promise<unknown>;
  tamperedCode: ErrorCode;
  distrust(policy: ProvenancePolicy): ProvenancePolicy;
  untrustedCode: ErrorCode;
  withHosts(policy: ProvenancePolicy, hosts: string[]): ProvenancePolicy;
  verify(input: unknown, policy: ProvenancePolicy, now: Date): Promise<ProvenanceVerdict>;
};

// Re-encodes the payload segment of a compact JWS, keeping the original signature.
function swapJwsPayload(jws: string, edit: (payload: Record<string, unknown>) => void): string {
  const [h, p, s] = jws.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  edit(payload);
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

const tlsnHex = (file: string) => readFileSync(join(FIXTURES, 'tlsn', file), 'utf8').trim();

const sourceKey = makeKey('bank-2026');
const enclaveKey = makeKey('enclave-jws-1');

const adapters: Adapter[] = [
  {
    kind: 'tlsn',
    available: HAVE_TLSN,
    async valid() {
      return {
        input: tlsnHex('vlayer-rust_web_proof.hex'),
        policy: basePolicy(),
        now: new Date(1749651847_000),
        host: 'lotr-api.online',
        signer: NOTARY.tlsnFixture,
      };
    },
    // A one-character edit of the revealed response ("Frodo" → "Frodi") breaks the transcript commitment proof.
    async tamper(input) {
      const hex = input as string;
      const needle = Buffer.from('Frodo').toString('hex');
      expect(hex.includes(needle)).toBe(true);
      return hex.replace(needle, Buffer.from('Frodi').toString('hex'));
    },
    tamperedCode: 'ERR_PROVENANCE_SIGNATURE_INVALID',
    distrust: (p) => ({ ...p, tlsn: { ...p.tlsn, notaryKeys: [NOTARY.vlayer] } }),
    untrustedCode: 'ERR_PROVENANCE_NOTARY_UNTRUSTED',
    withHosts: (p, hosts) => ({ ...p, tlsn: { ...p.tlsn, hosts } }),
    verify: (input, policy, now) => verifyTlsn(input as string, { policy, now }),
  },
  {
    kind: 'reclaim',
    available: HAVE_RECLAIM,
    async valid() {
      return {
        input: JSON.parse(readFileSync(join(FIXTURES, 'reclaim', 'github-username_fuel-sdk.json'), 'utf8')) as unknown,
        policy: basePolicy(),
        now: new Date(1736693048_000),
        host: 'github.com',
        signer: RECLAIM_WITNESS,
      };
    },
    // Claiming another username: the identifier no longer matches the claim's contents.
    async tamper(input) {
      const c = structuredClone(input) as { claimData: { context: string } };
      c.claimData.context = c.claimData.context.replace('hadi-saleh14', 'someone-else');
      return c;
    },
    tamperedCode: 'ERR_PROVENANCE_CLAIM_MISMATCH',
    distrust: (p) => ({ ...p, reclaim: { ...p.reclaim, witnesses: ['0x0000000000000000000000000000000000000001'] } }),
    untrustedCode: 'ERR_PROVENANCE_WITNESS_UNTRUSTED',
    withHosts: (p, hosts) => ({ ...p, reclaim: { ...p.reclaim, hosts } }),
    verify: (input, policy, now) => verifyReclaim(input, { policy, now }),
  },
  {
    kind: 'signed-source',
    available: true,
    async valid() {
      const key = await sourceKey;
      return {
        input: await makeSignedSource(key),
        policy: basePolicy({
          signedSource: {
            hosts: 'any',
            algorithms: ['ES256'],
            jwks: { keys: [key.jwk] },
            kids: [{ kid: key.jwk.kid, issuers: ['bank.example'] }],
          },
        }),
        now: new Date(1_790_000_100_000),
        host: 'bank.example',
        signer: key.jwk.kid,
      };
    },
    // Raising the opening balance under the original signature.
    async tamper(input) {
      return swapJwsPayload(input as string, (p) => {
        (p.statement as { openingBalance: number }).openingBalance += 1_000_000;
      });
    },
    tamperedCode: 'ERR_PROVENANCE_SIGNATURE_INVALID',
    distrust: (p) => ({ ...p, signedSource: { ...p.signedSource, kids: [] } }),
    untrustedCode: 'ERR_PROVENANCE_SIGNER_UNTRUSTED',
    withHosts: (p, hosts) => ({ ...p, signedSource: { ...p.signedSource, hosts } }),
    verify: (input, policy, now) => verifySignedSource(input as string, { policy, now }),
  },
  {
    kind: 'attested-fetch',
    available: true,
    async valid() {
      const key = await enclaveKey;
      const { jws, body } = await makeAttestedFetch(key);
      return {
        input: { jws, body: toBase64(body) },
        policy: basePolicy({
          attestedFetch: { hosts: 'any', algorithms: ['ES256'], enclaveKeys: [key.jwk], statuses: [200] },
        }),
        now: new Date('2026-09-21T12:05:00Z'),
        host: 'bank.example',
        signer: key.jwk.kid,
      };
    },
    // Swapping the body for a richer one: it no longer matches the digest the enclave signed.
    async tamper(input) {
      const i = input as { jws: string; body: string };
      const body = fromBase64(i.body);
      body[body.length - 2] = 0x30;
      return { ...i, body: toBase64(body) };
    },
    tamperedCode: 'ERR_PROVENANCE_BODY_MISMATCH',
    distrust: (p) => ({ ...p, attestedFetch: { ...p.attestedFetch, enclaveKeys: [] } }),
    untrustedCode: 'ERR_PROVENANCE_SIGNER_UNTRUSTED',
    withHosts: (p, hosts) => ({ ...p, attestedFetch: { ...p.attestedFetch, hosts } }),
    verify: (input, policy, now) => verifyAttestedFetch(input as { jws: string; body: string }, { policy, now }),
  },
];

for (const a of adapters) {
  warnSkipped(`provenance behaviour suite for ${a.kind}`, a.available);
  describe.skipIf(!a.available)(`provenance behaviour: ${a.kind}`, () => {
    it('accepts a valid proof and reports kind, signer, host and time', async () => {
      const { input, policy, now, host, signer } = await a.valid();
      const v = await a.verify(input, policy, now);
      expect(v).toMatchObject({ kind: a.kind, signer, host });
      expect(v.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      expect(v.digest).toMatch(/^0x[0-9a-f]{64}$/);
      expect(v.revealed.length).toBeGreaterThan(0);
    });

    it('gives the same input-commitment digest for the same proof, and none of the revealed bytes are filler-only', async () => {
      const { input, policy, now } = await a.valid();
      const [v1, v2] = [await a.verify(input, policy, now), await a.verify(input, policy, now)];
      expect(v1.digest).toBe(v2.digest);
      for (const r of v1.revealed) expect(r.bytes.length).toBeGreaterThan(0);
    });

    it('refuses a tampered proof', async () => {
      const { input, policy, now } = await a.valid();
      await expect(a.verify(await a.tamper(input), policy, now)).rejects.toMatchObject({ code: a.tamperedCode });
    });

    it('refuses a proof from an untrusted signer', async () => {
      const { input, policy, now } = await a.valid();
      await expect(a.verify(input, a.distrust(policy), now)).rejects.toMatchObject({ code: a.untrustedCode });
    });

    it('refuses a proof for a host the policy does not allow', async () => {
      const { input, policy, now, host } = await a.valid();
      const near = `other.${host}`;
      await expect(a.verify(input, a.withHosts(policy, [near]), now)).rejects.toMatchObject({
        code: 'ERR_PROVENANCE_HOST_NOT_ALLOWED',
      });
      // The exact host passes: the refusal above is about the host alone.
      await expect(a.verify(input, a.withHosts(policy, [host]), now)).resolves.toMatchObject({ host });
    });

    it('refuses a stale proof', async () => {
      const { input, policy, now } = await a.valid();
      const later = new Date(now.getTime() + (policy.maxAgeSeconds + 3600) * 1000);
      await expect(a.verify(input, policy, later)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_STALE' });
    });

    it('refuses a proof dated in the future', async () => {
      const { input, policy, now } = await a.valid();
      const earlier = new Date(now.getTime() - (policy.clockSkewSeconds + 3600) * 1000);
      await expect(a.verify(input, policy, earlier)).rejects.toMatchObject({ code: 'ERR_PROVENANCE_FROM_FUTURE' });
    });
  });
}
