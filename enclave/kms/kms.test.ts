// Key release and the witness, end to end through the KMS's HTTP app (no ports): who gets the fleet secrets, every
// refusal with its code (named after the attack it stops), the witnessed heads an instance's start is checked against,
// and that no log line or problem body carries a secret.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  chainKeyId,
  KMS_MODEL_HASH,
  type Hex,
  type PublicJwk,
  type ReleaseRequestClaims,
} from '../../protocol/index.ts';
import { plainIngest, plainVerifyConsent } from '../../testing/plain-ingest.ts';
import { bootEnclave, type Enclave, type FleetBoot } from '../boot.ts';
import type { JwsSigner } from '../jws-signer.ts';
import { openTransparencyLog, type TransparencyLog } from '../log/index.ts';
import { createSimPlatform } from '../platforms/sim.ts';
import { createService } from '../service.ts';
import { openSqliteStore, type Store } from '../store/index.ts';
import { seededRandom } from '../../testing/enclave.ts';
import { ADMIN, testScorer } from '../../testing/service.ts';
import {
  bootTestInstance,
  fleetFetch,
  headReport,
  kmsPolicy,
  pipelineIdFor,
  connectTestKms,
  startTestKms,
  TEST_APP,
  TEST_CODE_HASH,
  TEST_MODEL_HASH,
  witnessed,
  witnessFor,
  type TestInstance,
  type TestKms,
} from '../../testing/kms.ts';
import { hex, job, NOW as NOW_S, seed } from '../../testing/store-rows.ts';
import { bootKmsIdentity } from './identity.ts';
import { sealRelease, signRequest } from './messages.ts';
import { dataKeyPair, generateFleetSecrets, secretsToWire } from './secrets.ts';

const OTHER_CODE: Hex = `0x${'c1'.repeat(32)}`;
const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** The public half of a private key, for comparing with a JWK. */
const xyOf = (k: KeyObject) => {
  const { x, y } = createPublicKey(k).export({ format: 'jwk' });
  return { x, y };
};

/** The body of a release request for `e`, with a fresh challenge of `kms`; claims and signer may be overridden. */
async function releaseBody(
  kms: TestKms,
  e: Pick<Enclave, 'evidence' | 'manifest' | 'evidenceDigest' | 'signJws'>,
  o: { claims?: Partial<ReleaseRequestClaims>; sign?: JwsSigner } = {},
) {
  const { nonce } = (await kms.call('POST', '/v1/kms/challenge', {})).json as { nonce: Hex };
  const claims: ReleaseRequestClaims = {
    v: 1,
    typ: 'props-kms-request',
    app: kms.app,
    aud: kms.identity.evidenceDigest,
    sub: e.evidenceDigest,
    nonce,
    iat: Math.floor(kms.clock.now().getTime() / 1000),
    ...o.claims,
  };
  return { evidence: e.evidence, manifest: e.manifest, request: await signRequest(o.sign ?? e.signJws, claims) };
}

/** A host between the instance and the KMS: records each release exchange, and may answer for the KMS. */
function hostInTheMiddle(
  base: typeof fetch,
  answer?: (body: { evidence: any; request: string }) => Promise<unknown> | unknown,
) {
  const releases: Array<{ body: string; release?: string }> = [];
  const f: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    if (!req.url.endsWith('/v1/kms/release')) return base(req);
    const body = await req.text();
    const seen: { body: string; release?: string } = { body };
    releases.push(seen);
    if (answer) return Response.json(await answer(JSON.parse(body)));
    const res = await base(new Request(req.url, { method: 'POST', headers: req.headers, body }));
    const json = (await res.clone().json()) as { release?: string };
    if (json.release) seen.release = json.release;
    return res;
  };
  return { fetch: f, releases };
}

/** An enclave booted outside the harness: debug, keeping its own keys, or with a boot hook of its own. */
async function bootOwn(kms: TestKms, seedName: string, o: { debug?: boolean; codeHash?: Hex; fleet?: FleetBoot } = {}) {
  const random = seededRandom(seedName);
  return bootEnclave({
    platform: await createSimPlatform({ random, clock: kms.clock.now, debug: o.debug ?? false }),
    random,
    clock: kms.clock.now,
    model: { modelHash: TEST_MODEL_HASH, executionProvider: 'cpu' },
    expectedModelHash: TEST_MODEL_HASH,
    codeHash: o.codeHash ?? TEST_CODE_HASH,
    ...(o.fleet ? { fleet: o.fleet } : {}),
  });
}

const released = (kms: TestKms) => kms.logged.filter((e) => e.event === 'kms.released').length;

describe('key release to approved pipelines', () => {
  it('releases the fleet secrets to an approved pipeline, whose evidence binds the fleet data key and a release key', async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    const keys = inst.enclave.evidence.keys;
    expect(keys.encryption).toEqual(kms.identity.evidence.keys.encryption);
    expect(keys.release).toBeDefined();
    expect(keys.release?.kid).not.toBe(keys.encryption.kid);
    expect(inst.secrets).toEqual(kms.secrets);
    // What opens submissions is the released data key, the private half of the key the evidence binds.
    expect(xyOf(inst.enclave.keys.encryptionPrivateKey)).toEqual({ x: keys.encryption.x, y: keys.encryption.y });
    expect(inst.enclave.pipelineId).toBe(pipelineIdFor(TEST_CODE_HASH));
    expect(released(kms)).toBe(1);
  });

  it('two instances get the same data key and nullifier key, each with its own release key', async () => {
    const kms = await startTestKms();
    const a = await bootTestInstance(kms, { seed: 'a' });
    const b = await bootTestInstance(kms, { seed: 'b' });
    expect(a.secrets.dataKey).toEqual(b.secrets.dataKey);
    expect(a.secrets.nullifierKey).toEqual(b.secrets.nullifierKey);
    expect(a.enclave.evidence.keys.encryption).toEqual(b.enclave.evidence.keys.encryption);
    expect(a.enclave.evidence.keys.release).not.toEqual(b.enclave.evidence.keys.release);
    expect(a.enclave.evidenceDigest).not.toBe(b.enclave.evidenceDigest);
  });

  it('a replica (same code and policy, the KMS model hash) gets the same secrets, and instances may ask either', async () => {
    const kms = await startTestKms();
    const replica = await startTestKms({ seed: 'replica', join: kms });
    expect(replica.identity.manifest.modelHash).toBe(KMS_MODEL_HASH);
    expect(replica.identity.manifest.policyHash).toBe(kms.identity.manifest.policyHash);
    expect(replica.secrets).toEqual(kms.secrets);
    expect(replica.identity.evidence.keys.encryption).toEqual(kms.identity.evidence.keys.encryption);
    expect(replica.identity.evidenceDigest).not.toBe(kms.identity.evidenceDigest);
    const inst = await bootTestInstance(kms, { replicas: [replica, kms] });
    expect(inst.connection.replicas.map((r) => r.url)).toEqual([replica.url, kms.url]);
    expect(inst.secrets).toEqual(kms.secrets);
    expect(released(replica)).toBe(1);
  });

  it('an unreachable replica is passed over for the next one', async () => {
    const kms = await startTestKms();
    const replica = await startTestKms({ seed: 'replica', join: kms });
    let down = false;
    const base = fleetFetch(replica, kms);
    const f: typeof fetch = async (input, init) => {
      const req = new Request(input, init);
      if (down && req.url.startsWith(replica.url)) throw new TypeError('fetch failed');
      return base(req);
    };
    const inst = await bootTestInstance(kms, {
      replicas: [replica, kms],
      fetch: f,
      fleet: (honest) => ({
        dataKey: honest.dataKey,
        obtain: (boot) => {
          down = true;
          return honest.obtain(boot);
        },
      }),
    });
    expect(inst.secrets).toEqual(kms.secrets);
    // One release to the replica as it joined, one to the instance.
    expect(released(kms)).toBe(2);
    expect(released(replica)).toBe(0);
  });
});

describe('who is refused the fleet secrets', () => {
  it('instance running other code asks for the fleet keys: ERR_KMS_PIPELINE_NOT_APPROVED', async () => {
    const kms = await startTestKms();
    await expect(
      bootTestInstance(kms, { seed: 'rogue', codeHash: OTHER_CODE, kmsCodeHash: TEST_CODE_HASH }),
    ).rejects.toMatchObject({ code: 'ERR_KMS_PIPELINE_NOT_APPROVED' });
    expect(released(kms)).toBe(0);
    expect(kms.logged).toContainEqual({ event: 'kms.refused', code: 'ERR_KMS_PIPELINE_NOT_APPROVED', status: 403 });
  });

  it('pipeline approval withdrawn: the next request is refused (ERR_KMS_PIPELINE_NOT_APPROVED)', async () => {
    const kms = await startTestKms();
    await bootTestInstance(kms, { seed: 'before' });
    kms.approved.delete(pipelineIdFor(TEST_CODE_HASH));
    await expect(bootTestInstance(kms, { seed: 'after' })).rejects.toMatchObject({
      code: 'ERR_KMS_PIPELINE_NOT_APPROVED',
    });
    expect(released(kms)).toBe(1);
  });

  it('registry unreadable: the KMS fails closed with ERR_KMS_APPROVALS_UNAVAILABLE (503)', async () => {
    const kms = await startTestKms();
    kms.approvalsDown = true;
    await expect(bootTestInstance(kms)).rejects.toMatchObject({ code: 'ERR_KMS_APPROVALS_UNAVAILABLE' });
    expect(kms.logged).toContainEqual({ event: 'kms.refused', code: 'ERR_KMS_APPROVALS_UNAVAILABLE', status: 503 });
    expect(released(kms)).toBe(0);
  });

  it('simulated instance asks a production KMS: ERR_EVIDENCE_SIMULATED_NOT_ALLOWED', async () => {
    const prod = await startTestKms({ seed: 'prod', allowSimulated: false });
    await expect(bootTestInstance(prod)).rejects.toMatchObject({ code: 'ERR_EVIDENCE_SIMULATED_NOT_ALLOWED' });
    expect(released(prod)).toBe(0);
  });

  it('debug instance: its evidence fails the KMS policy (ERR_EVIDENCE_DEBUG)', async () => {
    const kms = await startTestKms();
    const conn = await connectTestKms(kms);
    await expect(bootOwn(kms, 'debug', { debug: true, fleet: conn.fleetBoot(() => {}) })).rejects.toMatchObject({
      code: 'ERR_EVIDENCE_DEBUG',
    });
  });

  it('evidence not binding the fleet data key: ERR_KMS_DATA_KEY_MISMATCH', async () => {
    const kms = await startTestKms();
    const other = (await dataKeyPair(generateFleetSecrets(seededRandom('other-fleet')))).publicJwk;
    await expect(
      bootTestInstance(kms, { fleet: (honest) => ({ dataKey: other, obtain: honest.obtain }) }),
    ).rejects.toMatchObject({ code: 'ERR_KMS_DATA_KEY_MISMATCH' });
    expect(released(kms)).toBe(0);
  });

  it('a KMS answering a data key other than the one bound: the instance refuses to boot (ERR_KMS_DATA_KEY_MISMATCH)', async () => {
    const kms = await startTestKms();
    const other = (await dataKeyPair(generateFleetSecrets(seededRandom('other-fleet')))).privateKey;
    await expect(
      bootTestInstance(kms, { fleet: (honest) => ({ dataKey: honest.dataKey, obtain: async () => other }) }),
    ).rejects.toMatchObject({ code: 'ERR_KMS_DATA_KEY_MISMATCH' });
  });

  it('enclave keeping its own keys (no release key in its evidence): ERR_KMS_RELEASE_KEY_MISSING', async () => {
    const kms = await startTestKms();
    const plain = await bootOwn(kms, 'plain');
    expect(plain.evidence.keys.release).toBeUndefined();
    const r = await kms.call('POST', '/v1/kms/release', await releaseBody(kms, plain));
    expect(r.json.code).toBe('ERR_KMS_RELEASE_KEY_MISSING');
  });

  it('replica of other code or policy asks to join: ERR_KMS_PEER_MISMATCH', async () => {
    const kms = await startTestKms();
    const peer = await connectTestKms(kms);
    for (const [seedName, codeHash, policy] of [
      ['other-code', OTHER_CODE, kmsPolicy()],
      ['other-policy', TEST_CODE_HASH, { ...kmsPolicy(), evidence: { ...kmsPolicy().evidence, id: 'lax@1' } }],
    ] as const) {
      const random = seededRandom(seedName);
      const identity = await bootKmsIdentity({
        platform: await createSimPlatform({ random, clock: kms.clock.now }),
        random,
        codeHash,
        policy,
        dataKey: peer.dataKey,
      });
      await expect(peer.fleetBoot(() => {}).obtain(identity)).rejects.toMatchObject({
        code: 'ERR_KMS_PEER_MISMATCH',
      });
    }
    expect(released(kms)).toBe(0);
  });
});

describe('KMS impostors: the instance checks the KMS before it asks', () => {
  it('KMS impostor running other code: ERR_KMS_EVIDENCE_REFUSED', async () => {
    const impostor = await startTestKms({ seed: 'impostor', codeHash: OTHER_CODE });
    await expect(bootTestInstance(impostor, { codeHash: TEST_CODE_HASH })).rejects.toMatchObject({
      code: 'ERR_KMS_EVIDENCE_REFUSED',
    });
    expect(impostor.logged).toEqual([]);
  });

  it('KMS info tampered in transit (another data key in its evidence, or a wrong digest): ERR_KMS_EVIDENCE_REFUSED', async () => {
    const kms = await startTestKms();
    const attacker = (await dataKeyPair(generateFleetSecrets(seededRandom('attacker')))).publicJwk;
    const edits: Array<(info: any) => void> = [
      (info) => void (info.evidence.keys.encryption = attacker),
      (info) => void (info.evidenceDigest = `0x${'ee'.repeat(32)}`),
      (info) => void (info.manifest.codeHash = OTHER_CODE),
    ];
    for (const edit of edits) {
      const f: typeof fetch = async (input, init) => {
        const req = new Request(input, init);
        const res = await kms.fetch(req);
        if (!req.url.endsWith('/v1/kms')) return res;
        const info = await res.json();
        edit(info);
        return Response.json(info);
      };
      await expect(bootTestInstance(kms, { fetch: f })).rejects.toMatchObject({ code: 'ERR_KMS_EVIDENCE_REFUSED' });
    }
    expect(released(kms)).toBe(0);
  });

  it("KMS impostor serving an instance's evidence as its own (no KMS manifest): ERR_KMS_EVIDENCE_REFUSED", async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    const f: typeof fetch = async (input, init) => {
      const req = new Request(input, init);
      if (!req.url.endsWith('/v1/kms')) return kms.fetch(req);
      const e = inst.enclave;
      return Response.json({
        v: 1,
        app: kms.app,
        evidence: e.evidence,
        manifest: e.manifest,
        evidenceDigest: e.evidenceDigest,
      });
    };
    await expect(bootTestInstance(kms, { seed: 'next', fetch: f })).rejects.toMatchObject({
      code: 'ERR_KMS_EVIDENCE_REFUSED',
    });
  });

  it('simulated KMS under a production instance policy: ERR_KMS_EVIDENCE_REFUSED', async () => {
    const kms = await startTestKms();
    await expect(bootTestInstance(kms, { policy: kmsPolicy(false) })).rejects.toMatchObject({
      code: 'ERR_KMS_EVIDENCE_REFUSED',
    });
  });

  it('KMS of another app: ERR_KMS_MISADDRESSED', async () => {
    const kms = await startTestKms({ app: `0x${'a0'.repeat(32)}` });
    await expect(connectTestKms(kms, { app: TEST_APP, codeHash: TEST_CODE_HASH })).rejects.toMatchObject({
      code: 'ERR_KMS_MISADDRESSED',
    });
  });

  it("host in the middle answers with its own release (fake secrets, another KMS's key): ERR_KMS_RELEASE_SIGNATURE", async () => {
    const kms = await startTestKms();
    const rogue = await startTestKms({ seed: 'rogue' });
    const mitm = hostInTheMiddle(kms.fetch, async (body) => {
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(body.request.split('.')[1] as string)));
      const release = await sealRelease(
        rogue.identity.signJws,
        {
          v: 1,
          typ: 'props-kms-release',
          app: kms.app,
          iss: kms.identity.evidenceDigest,
          aud: claims.sub,
          nonce: claims.nonce,
          iat: claims.iat,
          secrets: secretsToWire(rogue.secrets),
        },
        body.evidence.keys.release as PublicJwk,
      );
      return { release };
    });
    await expect(bootTestInstance(kms, { fetch: mitm.fetch })).rejects.toMatchObject({
      code: 'ERR_KMS_RELEASE_SIGNATURE',
    });
  });

  it('host replays an earlier release to a later boot of the same instance: ERR_KMS_MISADDRESSED', async () => {
    const kms = await startTestKms();
    const first = hostInTheMiddle(kms.fetch);
    await bootTestInstance(kms, { seed: 'same', fetch: first.fetch });
    const old = first.releases[0]?.release;
    expect(old).toBeDefined();
    const replay = hostInTheMiddle(kms.fetch, () => ({ release: old }));
    await expect(bootTestInstance(kms, { seed: 'same', fetch: replay.fetch })).rejects.toMatchObject({
      code: 'ERR_KMS_MISADDRESSED',
    });
  });

  it('release JWE swapped between two instances: ERR_KMS_RELEASE_UNREADABLE', async () => {
    const kms = await startTestKms();
    const a = hostInTheMiddle(kms.fetch);
    await bootTestInstance(kms, { seed: 'a', fetch: a.fetch });
    const swapped = hostInTheMiddle(kms.fetch, () => ({ release: a.releases[0]?.release }));
    await expect(bootTestInstance(kms, { seed: 'b', fetch: swapped.fetch })).rejects.toMatchObject({
      code: 'ERR_KMS_RELEASE_UNREADABLE',
    });
  });
});

describe('release requests: challenge, audience and signature', () => {
  async function booted() {
    const kms = await startTestKms();
    const mitm = hostInTheMiddle(kms.fetch);
    const inst = await bootTestInstance(kms, { fetch: mitm.fetch });
    return { kms, inst, first: mitm.releases[0] as { body: string; release?: string } };
  }

  it('a fresh request of an admitted instance is answered (the baseline of the refusals below)', async () => {
    const { kms, inst } = await booted();
    const r = await kms.call('POST', '/v1/kms/release', await releaseBody(kms, inst.enclave));
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['release']);
  });

  it('replayed release request (same body posted twice): ERR_KMS_NONCE_REPLAYED (409)', async () => {
    const { kms, first } = await booted();
    const r = await kms.call('POST', '/v1/kms/release', first.body);
    expect(r).toMatchObject({ status: 409, json: { code: 'ERR_KMS_NONCE_REPLAYED' } });
    expect(released(kms)).toBe(1);
  });

  it('a challenge spent by a refused request cannot be used again: ERR_KMS_NONCE_REPLAYED', async () => {
    const { kms, inst } = await booted();
    kms.approvalsDown = true;
    const body = await releaseBody(kms, inst.enclave);
    expect((await kms.call('POST', '/v1/kms/release', body)).json.code).toBe('ERR_KMS_APPROVALS_UNAVAILABLE');
    kms.approvalsDown = false;
    expect((await kms.call('POST', '/v1/kms/release', body)).json.code).toBe('ERR_KMS_NONCE_REPLAYED');
  });

  it('request naming a challenge never issued: ERR_KMS_NONCE_UNKNOWN', async () => {
    const { kms, inst } = await booted();
    const body = await releaseBody(kms, inst.enclave, { claims: { nonce: `0x${'99'.repeat(32)}` } });
    expect((await kms.call('POST', '/v1/kms/release', body)).json.code).toBe('ERR_KMS_NONCE_UNKNOWN');
  });

  it('request answering an expired challenge: ERR_KMS_NONCE_UNKNOWN', async () => {
    const { kms, inst } = await booted();
    const { nonce } = (await kms.call('POST', '/v1/kms/challenge', {})).json;
    kms.clock.advance(61);
    const body = await releaseBody(kms, inst.enclave, { claims: { nonce } });
    expect((await kms.call('POST', '/v1/kms/release', body)).json.code).toBe('ERR_KMS_NONCE_UNKNOWN');
  });

  it('request signed long ago or in the future (iat outside the challenge window): ERR_KMS_NONCE_UNKNOWN', async () => {
    const { kms, inst } = await booted();
    const now = Math.floor(kms.clock.now().getTime() / 1000);
    for (const iat of [now - 3600, now + 3600]) {
      const body = await releaseBody(kms, inst.enclave, { claims: { iat } });
      expect((await kms.call('POST', '/v1/kms/release', body)).json.code).toBe('ERR_KMS_NONCE_UNKNOWN');
    }
  });

  it('request addressed to another KMS (aud), or for another app: ERR_KMS_MISADDRESSED (403)', async () => {
    const { kms, inst } = await booted();
    for (const claims of [{ aud: `0x${'dd'.repeat(32)}` as Hex }, { app: `0x${'a0'.repeat(32)}` as Hex }]) {
      const r = await kms.call('POST', '/v1/kms/release', await releaseBody(kms, inst.enclave, { claims }));
      expect(r).toMatchObject({ status: 403, json: { code: 'ERR_KMS_MISADDRESSED' } });
    }
    expect(released(kms)).toBe(1);
  });

  it('request made for one replica relayed to another: ERR_KMS_MISADDRESSED', async () => {
    const { kms, first } = await booted();
    const replica = await startTestKms({ seed: 'replica', join: kms });
    const r = await replica.call('POST', '/v1/kms/release', first.body);
    expect(r.json.code).toBe('ERR_KMS_MISADDRESSED');
    expect(released(replica)).toBe(0);
  });

  it("request signed by a key not the evidence's, or naming other evidence (sub): ERR_KMS_REQUEST_SIGNATURE", async () => {
    const { kms, inst } = await booted();
    const other = await bootTestInstance(kms, { seed: 'other' });
    const cases = [
      await releaseBody(kms, inst.enclave, { sign: other.enclave.signJws }),
      await releaseBody(kms, inst.enclave, { claims: { sub: other.enclave.evidenceDigest } }),
      { ...(await releaseBody(kms, inst.enclave)), evidence: other.enclave.evidence },
      { ...(await releaseBody(kms, inst.enclave)), request: 'eyJhbGciOiJub25lIn0.e30.' },
    ];
    for (const body of cases)
      expect((await kms.call('POST', '/v1/kms/release', body)).json.code).toBe('ERR_KMS_REQUEST_SIGNATURE');
    expect(released(kms)).toBe(2);
  });
});

describe('the HTTP boundary', () => {
  it('malformed bodies, wrong content types and oversized bodies get their codes, never a 5xx', async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    const good = await releaseBody(kms, inst.enclave);
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const cases: Array<[string, string, unknown, string, Record<string, string>?]> = [
      ['POST', '/v1/kms/release', 'not json', 'ERR_JSON_MALFORMED'],
      ['POST', '/v1/kms/release', {}, 'ERR_INPUT_MALFORMED'],
      ['POST', '/v1/kms/release', [], 'ERR_INPUT_MALFORMED'],
      ['POST', '/v1/kms/release', null, 'ERR_INPUT_MALFORMED'],
      ['POST', '/v1/kms/release', { ...good, admin: true }, 'ERR_INPUT_MALFORMED'],
      ['POST', '/v1/kms/release', { ...good, request: 'x'.repeat(10) }, 'ERR_INPUT_MALFORMED'],
      ['POST', '/v1/kms/release', { ...good, evidence: 'evidence' }, 'ERR_EVIDENCE_MALFORMED'],
      ['POST', '/v1/kms/release', { ...good, evidence: { ...good.evidence, quote: 7 } }, 'ERR_EVIDENCE_MALFORMED'],
      ['POST', '/v1/kms/release', { ...good, manifest: { nope: 1 } }, 'ERR_UNKNOWN_VERSION'],
      ['POST', '/v1/kms/release', `{"evidence":${deep},"manifest":1,"request":"a.b.c"}`, 'ERR_EVIDENCE_MALFORMED'],
      [
        'POST',
        '/v1/kms/release',
        JSON.stringify(good),
        'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
        { 'content-type': 'text/plain' },
      ],
      ['POST', '/v1/kms/release', `"${'a'.repeat(2 << 20)}"`, 'ERR_INPUT_TOO_LARGE'],
      ['POST', '/v1/kms/challenge', undefined, 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE'],
      ['POST', '/v1/kms/heads', { evidence: 1 }, 'ERR_INPUT_MALFORMED'],
      ['POST', '/v1/kms/heads', { ...headReport(inst.enclave, {} as never) }, 'ERR_LOG_HEAD_INVALID'],
      [
        'POST',
        '/v1/kms/heads',
        { ...headReport(inst.enclave, {} as never), consistency: ['0x12'] },
        'ERR_INPUT_MALFORMED',
      ],
      ['GET', '/v1/kms/heads/not-a-log-id', undefined, 'ERR_INPUT_MALFORMED'],
      ['GET', `/v1/kms/heads/0x${'ab'.repeat(32)}`, undefined, 'ERR_LOG_NOT_FOUND'],
      ['GET', '/v1/kms/secrets', undefined, 'ERR_HTTP_NOT_FOUND'],
      ['DELETE', '/v1/kms', undefined, 'ERR_HTTP_NOT_FOUND'],
    ];
    for (const [method, path, body, code, headers] of cases) {
      const r = await kms.call(method, path, body, headers);
      expect(r.status, `${method} ${path} ${code}`).toBeLessThan(500);
      expect(r.json?.code, `${method} ${path}`).toBe(code);
      expect(r.type).toContain('application/problem+json');
    }
  });

  it('evidence whose collateral cannot be canonicalized, in a validly signed request: a coded 4xx', async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    const good = await releaseBody(kms, inst.enclave);
    const text = JSON.stringify(good).replace('"collateral":{', '"collateral":{"n":1e999,');
    const r = await kms.call('POST', '/v1/kms/release', text);
    expect(r.status).toBeLessThan(500);
    expect(r.json.code).toBe('ERR_CANONICAL_JSON');
  });

  it('serves who it is: its evidence, manifest and app, and a one-use challenge', async () => {
    const kms = await startTestKms();
    const info = await kms.call('GET', '/v1/kms');
    expect(info.json).toEqual({
      v: 1,
      app: TEST_APP,
      evidence: kms.identity.evidence,
      manifest: kms.identity.manifest,
      evidenceDigest: kms.identity.evidenceDigest,
    });
    const c = await kms.call('POST', '/v1/kms/challenge', {});
    expect(c.json.expiresAt).toBe(Math.floor(kms.clock.now().getTime() / 1000) + 60);
    expect(c.json.nonce).not.toBe((await kms.call('POST', '/v1/kms/challenge', {})).json.nonce);
  });
});

describe('no secret leaves in a log line or a problem body', () => {
  it("the KMS's log and every refusal carry none of the secrets, release JWEs or keys", async () => {
    const kms = await startTestKms();
    const mitm = hostInTheMiddle(kms.fetch);
    const inst = await bootTestInstance(kms, { fetch: mitm.fetch });
    const bodies: string[] = [];
    const post = async (body: unknown) => bodies.push((await kms.call('POST', '/v1/kms/release', body)).text);
    await post(mitm.releases[0]?.body);
    await post(await releaseBody(kms, inst.enclave, { claims: { aud: `0x${'dd'.repeat(32)}` } }));
    kms.approvalsDown = true;
    await post(await releaseBody(kms, inst.enclave));
    kms.approvalsDown = false;
    kms.approved.clear();
    await post(await releaseBody(kms, inst.enclave));
    await post({ evidence: inst.enclave.evidence, manifest: {}, request: 'a.b.c' });
    expect(bodies).toHaveLength(5);
    const wire = secretsToWire(kms.secrets);
    const kmsKey = kms.identity.releaseKey.export({ format: 'jwk' }).d as string;
    const dataKey = b64u(kms.secrets.dataKey);
    const needles = [wire.dataKey, wire.nullifierKey, wire.sealKey, kmsKey, dataKey, mitm.releases[0]?.release ?? ''];
    expect(needles.every((n) => n.length >= 40)).toBe(true);
    const haystack = [JSON.stringify(kms.logged), ...bodies];
    for (const n of needles) for (const h of haystack) expect(h).not.toContain(n);
    for (const h of [JSON.stringify(kms.logged), ...bodies])
      expect(h).not.toContain(Buffer.from(kms.secrets.nullifierKey).toString('hex'));
  });
});

// ---------------------------------------------------------------- the witness
/** An instance's service on `store`, its heads reported to the KMS. */
async function instanceService(kms: TestKms, inst: TestInstance, store: Store, errors: string[] = []) {
  return createService({
    enclave: inst.enclave,
    store,
    adminToken: ADMIN,
    scorer: testScorer,
    ingest: plainIngest(inst.enclave),
    verifyConsent: plainVerifyConsent,
    clock: kms.clock.now,
    random: seededRandom('service'),
    logger: () => {},
    witness: witnessFor(inst, errors),
  });
}

/**
 * Jobs `from`..`to`-1 accepted, then their results appended to the log as the runner does (leaves salted per
 * history). Accepted after the service started, so its runner, which resumes only what it finds at start, leaves them.
 */
async function score(store: Store, log: Pick<TransparencyLog, 'appendResults'>, from: number, to: number, salt = 0) {
  const jobs = Array.from({ length: to - from }, (_, k) => job(from + k));
  if (from === 0) await seed(store, jobs);
  else
    for (const j of jobs)
      await store.acceptJob({ job: j, now: NOW_S, borrowerCap: 100, borrowerWindowSeconds: 86_400 });
  await log.appendResults(
    jobs.map((j, k) => ({ jobId: j.id, attestation: '{}', structHash: hex(10_000 + salt + from + k) })),
  );
}

/** A transparency log of `enclave` over a store of its own. */
async function logOf(kms: TestKms, enclave: Enclave) {
  const store = openSqliteStore();
  return { store, log: await openTransparencyLog({ store, enclave, clock: kms.clock.now }) };
}

describe('the witness: heads only grow, forks and rollbacks are refused', () => {
  it('heads grow only with a valid consistency proof; an older report leaves the witnessed head', async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    const { store, log } = await logOf(kms, inst.enclave);
    await score(store, log, 0, 1);
    const h1 = await log.signedHead();
    await score(store, log, 1, 3);
    const h3 = await log.signedHead();
    const report = (head: typeof h1, consistency?: Hex[]) =>
      kms.call('POST', '/v1/kms/heads', headReport(inst.enclave, head, consistency));

    expect((await report(h1)).json).toEqual({ logId: log.id, treeSize: 1, rootHash: h1.rootHash });
    expect((await report(h3)).json.code).toBe('ERR_LOG_CONSISTENCY_INVALID');
    const proof = log.consistency(1, 3).proof;
    expect(
      (
        await report(
          h3,
          proof.map(() => `0x${'00'.repeat(32)}` as Hex),
        )
      ).json.code,
    ).toBe('ERR_LOG_CONSISTENCY_INVALID');
    expect((await kms.call('GET', `/v1/kms/heads/${log.id}`)).json.treeSize).toBe(1);
    expect((await report(h3, proof)).json).toEqual({ logId: log.id, treeSize: 3, rootHash: h3.rootHash });
    expect((await report(h1)).json).toEqual({ logId: log.id, treeSize: 3, rootHash: h3.rootHash });
    expect(await inst.connection.witnessedHead(log.id)).toEqual({ treeSize: 3, root: h3.rootHash });
  });

  it('a replica joining later starts from the heads its peer witnessed (inside the release), and grows them with proofs', async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    const { store, log } = await logOf(kms, inst.enclave);
    await score(store, log, 0, 2);
    const h2 = await log.signedHead();
    await kms.call('POST', '/v1/kms/heads', headReport(inst.enclave, h2));
    const replica = await startTestKms({ seed: 'kms-late', join: kms });
    expect((await replica.call('GET', `/v1/kms/heads/${log.id}`)).json).toEqual({
      logId: log.id,
      treeSize: 2,
      rootHash: h2.rootHash,
    });
    // From there only a consistent head grows it, as on the first replica.
    await score(store, log, 2, 3);
    const h3 = await log.signedHead();
    expect((await replica.call('POST', '/v1/kms/heads', headReport(inst.enclave, h3))).json.code).toBe(
      'ERR_LOG_CONSISTENCY_INVALID',
    );
    const proof = log.consistency(2, 3).proof;
    expect((await replica.call('POST', '/v1/kms/heads', headReport(inst.enclave, h3, proof))).json.treeSize).toBe(3);
  });

  it('cloned instance reports another history at the same size: ERR_STATE_FORKED, the witnessed head kept', async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    const [a, b] = [await logOf(kms, inst.enclave), await logOf(kms, inst.enclave)];
    await score(a.store, a.log, 0, 2);
    await score(b.store, b.log, 0, 2, 500);
    const ha = await a.log.signedHead();
    expect((await kms.call('POST', '/v1/kms/heads', headReport(inst.enclave, ha))).status).toBe(200);
    const r = await kms.call('POST', '/v1/kms/heads', headReport(inst.enclave, await b.log.signedHead()));
    expect(r.json.code).toBe('ERR_STATE_FORKED');
    expect((await kms.call('GET', `/v1/kms/heads/${a.log.id}`)).json.rootHash).toBe(ha.rootHash);
  });

  it("head signed by another instance, sent with this instance's evidence: ERR_LOG_HEAD_INVALID", async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    const other = await bootTestInstance(kms, { seed: 'other' });
    const { store, log } = await logOf(kms, other.enclave);
    await score(store, log, 0, 1);
    const r = await kms.call('POST', '/v1/kms/heads', headReport(inst.enclave, await log.signedHead()));
    expect(r.json.code).toBe('ERR_LOG_HEAD_INVALID');
  });

  it('head reported by an enclave of a pipeline never approved (binding the data key anyway): ERR_KMS_PIPELINE_NOT_APPROVED', async () => {
    const kms = await startTestKms();
    const { privateKey } = await dataKeyPair(kms.secrets);
    const dataKey = kms.identity.evidence.keys.encryption;
    const rogue = await bootOwn(kms, 'rogue', {
      codeHash: OTHER_CODE,
      fleet: { dataKey, obtain: async () => privateKey },
    });
    const { store, log } = await logOf(kms, rogue);
    await score(store, log, 0, 1);
    const r = await kms.call('POST', '/v1/kms/heads', headReport(rogue, await log.signedHead()));
    expect(r.json.code).toBe('ERR_KMS_PIPELINE_NOT_APPROVED');
    expect((await kms.call('GET', `/v1/kms/heads/${log.id}`)).json.code).toBe('ERR_LOG_NOT_FOUND');
  });

  it('host restores an older database behind the witnessed head: the instance refuses to start (ERR_STATE_ROLLED_BACK)', async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    // Yesterday's copy of the instance's database: its first result. Today's: three, each head reported.
    const [yesterday, today] = [openSqliteStore(), openSqliteStore()];
    const svc = await instanceService(kms, inst, today);
    const logId = svc.deps.log.id;
    expect(logId).toBe(chainKeyId(inst.enclave.evidence.keys.chain.publicKey as Hex));
    await score(today, svc.deps.log, 0, 1);
    await score(
      yesterday,
      await openTransparencyLog({ store: yesterday, enclave: inst.enclave, clock: kms.clock.now }),
      0,
      1,
    );
    expect((await witnessed(kms, logId, 1)).rootHash).toBe(svc.deps.log.rootAt(1));
    await score(today, svc.deps.log, 1, 3);
    const head = await witnessed(kms, logId, 3);
    svc.runner.stop();

    await expect(instanceService(kms, inst, yesterday)).rejects.toMatchObject({ code: 'ERR_STATE_ROLLED_BACK' });
    expect(await inst.connection.witnessedHead(logId)).toEqual({ treeSize: 3, root: head.rootHash });
    // Today's database starts.
    (await instanceService(kms, inst, today)).runner.stop();
  });

  it('cloned instance on a forked database: its heads are refused, and it cannot start again (ERR_STATE_FORKED)', async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    const [storeA, storeB] = [openSqliteStore(), openSqliteStore()];
    const errorsB: string[] = [];
    const a = await instanceService(kms, inst, storeA);
    const b = await instanceService(kms, inst, storeB, errorsB);
    await score(storeA, a.deps.log, 0, 2);
    const head = await witnessed(kms, a.deps.log.id, 2);
    // The clone's head at the witnessed size is not sent (nothing newer); past it, its proof cannot start from the
    // witnessed root.
    await score(storeB, b.deps.log, 0, 3, 500);
    for (let i = 0; i < 200 && errorsB.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(errorsB).toEqual(['ERR_LOG_CONSISTENCY_INVALID']);
    expect((await kms.call('GET', `/v1/kms/heads/${a.deps.log.id}`)).json).toMatchObject({
      treeSize: 2,
      rootHash: head.rootHash,
    });
    a.runner.stop();
    b.runner.stop();
    await expect(instanceService(kms, inst, storeB)).rejects.toMatchObject({ code: 'ERR_STATE_FORKED' });
  });

  it('no KMS answering the witnessed head: the instance does not start (ERR_STATE_WITNESS_UNAVAILABLE)', async () => {
    const kms = await startTestKms();
    const inst = await bootTestInstance(kms);
    const down = await connectTestKms(kms, {
      fetch: async (input, init) => {
        const req = new Request(input, init);
        if (req.url.includes('/v1/kms/heads/')) throw new TypeError('fetch failed');
        return kms.fetch(req);
      },
    });
    await expect(instanceService(kms, { ...inst, connection: down }, openSqliteStore())).rejects.toMatchObject({
      code: 'ERR_STATE_WITNESS_UNAVAILABLE',
    });
  });
});
