// Test support for provenance: the fixture folder, a permissive base policy, and makers of synthetic signed-source and
// attested-fetch proofs with freshly generated keys. Shared by the provenance suites, the attack scenarios and bench.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompactSign, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import {
  ATTESTED_FETCH_JWS_TYP,
  attestedFetchPayload,
  bodyDigest,
  canonicalBytes,
  certChainDigest,
  SIGNED_SOURCE_JWS_TYP,
  utf8,
  type AttestedFetchRecord,
  type SignedSourcePayload,
  type Statement,
} from '../protocol/index.ts';
import type { PinnedJwk, ProvenancePolicy } from '../verifier/provenance/index.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function fixturesDir(): string {
  const candidates = [process.env.PROPS_FIXTURES, join(repoRoot, '../shared/fixtures'), '/work/shared/fixtures'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return candidates[1] as string;
}

export const FIXTURES = fixturesDir();
export const HAVE_TLSN = existsSync(join(FIXTURES, 'tlsn'));
export const HAVE_RECLAIM = existsSync(join(FIXTURES, 'reclaim'));

export function warnSkipped(what: string, present: boolean): void {
  if (!present) console.warn(`[props] SKIPPED ${what}: fixtures not found under ${FIXTURES} (set PROPS_FIXTURES)`);
}

export const NOTARY = {
  tlsnJs: '0x030da85d8da9b3436500e52d60f2c15c7605ed9f05953d02294a5ba0b5b9281a9a',
  tlsnFixture: '0x037b48f19c139b6888fb5e383a4d72c2335186fd5858e7ae743ab4bf8e071b06e7',
  vlayer: '0x02d4cbba990b0c2eb1dd45b29c7d26075299f1ea39317f35140e6ef71e703beda7',
  untrusted: '0x0274b9233a07203533e04b42dc482e8f4688745e38697886dd2753280f796f3404',
} as const;

export const RECLAIM_WITNESS = '0x244897572368eadf65bfbc5aec98d8e5443a9072';

export type TlsnCase = {
  file: string;
  host: string;
  notary: string;
  /** Connection time, seconds since the epoch (the fixture's `now`). */
  time: number;
  expect:
    | 'valid'
    | 'ERR_PROVENANCE_NOTARY_UNTRUSTED'
    | 'ERR_PROVENANCE_SIGNATURE_INVALID'
    | 'ERR_PROVENANCE_CERT_CHAIN_INVALID';
};

/** Every presentation in fixtures/tlsn with its expected verdict (see fixtures/tlsn/SOURCE.txt). */
export const TLSN_CASES: readonly TlsnCase[] = [
  {
    file: 'tlsn-js-alpha12_raw-githubusercontent.hex',
    host: 'raw.githubusercontent.com',
    notary: NOTARY.tlsnJs,
    time: 1748415894,
    expect: 'valid',
  },
  {
    file: 'vlayer-example_web_proof_development_signature.hex',
    host: 'api.x.com',
    notary: NOTARY.tlsnFixture,
    time: 1759836199,
    expect: 'valid',
  },
  {
    file: 'vlayer-example_web_proof_vlayer_signature.hex',
    host: 'api.x.com',
    notary: NOTARY.vlayer,
    time: 1759836327,
    expect: 'valid',
  },
  {
    file: 'vlayer-rust_web_proof.hex',
    host: 'lotr-api.online',
    notary: NOTARY.tlsnFixture,
    time: 1749651847,
    expect: 'valid',
  },
  {
    file: 'vlayer-rust_web_proof_all_redaction_types.hex',
    host: 'lotr-api.online',
    notary: NOTARY.tlsnFixture,
    time: 1749651875,
    expect: 'valid',
  },
  {
    file: 'vlayer-example_web_proof_invalid_signature.hex',
    host: 'lotr-api.online',
    notary: NOTARY.untrusted,
    time: 1749651861,
    expect: 'ERR_PROVENANCE_NOTARY_UNTRUSTED',
  },
  {
    file: 'vlayer-rust_web_proof_bad_signature.hex',
    host: 'lotr-api.online',
    notary: NOTARY.tlsnFixture,
    time: 1749651847,
    expect: 'ERR_PROVENANCE_SIGNATURE_INVALID',
  },
  {
    file: 'vlayer-rust_web_proof_identity_name_changed.hex',
    host: 'lotr-api.online',
    notary: NOTARY.tlsnFixture,
    time: 1749651847,
    expect: 'ERR_PROVENANCE_CERT_CHAIN_INVALID',
  },
];

export const RECLAIM_CASES = [
  { file: 'github-username_fuel-sdk.json', host: 'github.com', time: 1736693048 },
  { file: 'steam-id_wagmi-example.json', host: 'store.steampowered.com', time: 1724909052 },
] as const;

/** A policy trusting the three real notaries and the Reclaim witness, any host, one hour max age. */
export function basePolicy(over: Partial<ProvenancePolicy> = {}): ProvenancePolicy {
  return {
    version: 2,
    id: 'test',
    maxAgeSeconds: 3600,
    clockSkewSeconds: 60,
    maxTranscriptBytes: 64 * 1024,
    tlsn: { hosts: 'any', notaryKeys: [NOTARY.tlsnJs, NOTARY.tlsnFixture, NOTARY.vlayer] },
    reclaim: { hosts: 'any', witnesses: [RECLAIM_WITNESS] },
    signedSource: { hosts: 'any', algorithms: ['ES256', 'EdDSA'], jwks: { keys: [] }, kids: [] },
    attestedFetch: { hosts: 'any', algorithms: ['ES256'], enclaveKeys: [], statuses: [200] },
    ...over,
  };
}

export type TestKey = { privateKey: CryptoKey; jwk: PinnedJwk };

export async function makeKey(kid: string, alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const pub = await exportJWK(publicKey);
  const jwk = {
    kty: pub.kty,
    crv: pub.crv,
    x: pub.x,
    ...(pub.y ? { y: pub.y } : {}),
    kid,
    alg,
    use: 'sig',
  } as PinnedJwk;
  return { privateKey, jwk };
}

export const sampleStatement = (): Statement => ({
  version: 1,
  accountId: 'acc_1',
  currency: 'EUR',
  from: '2026-01-01',
  to: '2026-01-31',
  openingBalance: 120_000,
  transactions: [
    { date: '2026-01-01', amount: 250_000, category: 'salary', description: 'ACME payroll', balanceAfter: 370_000 },
    { date: '2026-01-03', amount: -95_000, category: 'rent', description: 'Rent January', balanceAfter: 275_000 },
  ],
});

export async function signJws(
  key: TestKey,
  typ: string,
  payload: Uint8Array,
  alg: string = key.jwk.alg,
): Promise<string> {
  return new CompactSign(payload).setProtectedHeader({ alg, typ, kid: key.jwk.kid }).sign(key.privateKey);
}

export async function makeSignedSource(key: TestKey, claims: Partial<SignedSourcePayload> = {}): Promise<string> {
  const payload: SignedSourcePayload = {
    v: 1,
    iss: 'bank.example',
    sub: 'acc_1',
    iat: 1_790_000_000,
    exp: 1_790_000_600,
    statement: sampleStatement(),
    ...claims,
  };
  return signJws(key, SIGNED_SOURCE_JWS_TYP, utf8(JSON.stringify(payload)));
}

export function sampleRecord(body: Uint8Array, over: Partial<AttestedFetchRecord> = {}): AttestedFetchRecord {
  return {
    version: 1,
    kind: 'attested-fetch',
    url: 'https://bank.example/api/statements/acc_1',
    host: 'bank.example',
    method: 'GET',
    status: 200,
    tlsVersion: 'TLSv1.3',
    certChainSha256: certChainDigest([utf8('leaf-der'), utf8('ca-der')]),
    time: '2026-09-21T12:00:00Z',
    bodySha256: bodyDigest(body),
    bodyBytes: body.length,
    contentType: 'application/json',
    ...over,
  };
}

export async function makeAttestedFetch(key: TestKey, over: Partial<AttestedFetchRecord> = {}) {
  const body = canonicalBytes(sampleStatement());
  const record = sampleRecord(body, over);
  const jws = await signJws(key, ATTESTED_FETCH_JWS_TYP, attestedFetchPayload(record));
  return { jws, body, record };
}
