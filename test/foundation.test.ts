// Foundation: a sim enclave's evidence and results against the verifier — every signed field flipped, each attack
// by name, each asserting its stable code.
import { describe, expect, it } from 'vitest';
import { CompactSign, SignJWT, base64url } from 'jose';
import { createHmac } from 'node:crypto';
import { fromBase64, toBase64, type Evidence, type ResultAttestation } from '../protocol/index.ts';
import {
  BODY_OFFSET,
  BODY_MRTD,
  BODY_RTMR0,
  BODY_REPORT_DATA,
  BODY_TD_ATTRIBUTES,
  BODY_MRCONFIGID,
  SIG_DATA_OFFSET,
  HEADER_USER_DATA_OFFSET,
} from '../protocol/index.ts';
import { buildEar, verifyBundle, verifyEvidence, verifyResult, type Policy } from '../verifier/index.ts';
import {
  buildAuditBundle,
  commitInputs,
  DEMO_OUTPUT,
  logBundleResults,
  SAMPLE_STATEMENT,
  type Enclave,
} from '../enclave/index.ts';
import { NOW, hex32, resultCodesFor, simEnclave, simPolicy } from '../testing/enclave.ts';

const request = { requestId: hex32('11'), nonce: hex32('22'), consentRef: hex32('33') };
const clone = <T>(v: T): T => structuredClone(v);

async function world() {
  const enclave = await simEnclave();
  const attestation = await enclave.signResult(request, DEMO_OUTPUT, commitInputs(SAMPLE_STATEMENT));
  return { enclave, attestation };
}

async function evidenceCodes(
  ev: unknown,
  manifest: unknown,
  policy: Policy = simPolicy(),
  extra: { allowSimulated?: boolean } = {},
) {
  const r = await verifyEvidence(ev, { policy, now: NOW, manifest, ...extra });
  return { ok: r.ok, codes: r.checks.filter((c) => !c.ok).map((c) => c.code) };
}

async function resultCodes(
  enclave: Enclave,
  att: unknown,
  opts: { policy?: Policy; now?: Date; expected?: typeof request; nonceStore?: Set<string> } = {},
) {
  const { ok, codes } = await resultCodesFor(enclave, att, { ...opts, expected: opts.expected ?? request });
  return { ok, codes };
}

function withQuote(ev: Evidence, mutate: (q: Uint8Array) => void): Evidence {
  const q = fromBase64(ev.quote);
  mutate(q);
  return { ...clone(ev), quote: toBase64(q) };
}

describe('sim evidence', () => {
  it('verifies when simulated evidence is allowed, and says it is simulated', async () => {
    const { enclave } = await world();
    const r = await verifyEvidence(enclave.evidence, { policy: simPolicy(), now: NOW, manifest: enclave.manifest });
    expect(r.ok).toBe(true);
    expect(r.simulated).toBe(true);
    expect(r.checks.find((c) => c.id === 'evidence.platform')?.detail).toMatch(/SIMULATED/);
  });

  it('collateral JSON that has no RFC 8785 form (a number out of range) fails the format check, not the call', async () => {
    const { enclave } = await world();
    for (const bad of [Number.POSITIVE_INFINITY, Number.NaN]) {
      const ev = { ...enclave.evidence, collateral: { ...(enclave.evidence.collateral as object), extra: bad } };
      expect(await evidenceCodes(ev, enclave.manifest)).toEqual({ ok: false, codes: ['ERR_CANONICAL_JSON'] });
    }
  });

  it('refuses simulated evidence under a policy that does not allow it (ERR_EVIDENCE_SIMULATED_NOT_ALLOWED)', async () => {
    const { enclave } = await world();
    const policy = simPolicy((p) => (p.evidence.allowSimulated = false));
    expect(await evidenceCodes(enclave.evidence, enclave.manifest, policy)).toEqual({
      ok: false,
      codes: ['ERR_EVIDENCE_SIMULATED_NOT_ALLOWED'],
    });
    expect((await evidenceCodes(enclave.evidence, enclave.manifest, policy, { allowSimulated: true })).ok).toBe(true);
  });

  it.each([
    ['header user data', HEADER_USER_DATA_OFFSET],
    ['TD attributes', BODY_OFFSET + BODY_TD_ATTRIBUTES + 1],
    ['MRTD', BODY_OFFSET + BODY_MRTD],
    ['MRCONFIGID', BODY_OFFSET + BODY_MRCONFIGID + 5],
    ['RTMR0', BODY_OFFSET + BODY_RTMR0],
    ['RTMR3', BODY_OFFSET + BODY_RTMR0 + 3 * 48 + 47],
    ['report_data', BODY_OFFSET + BODY_REPORT_DATA + 63],
    ['quote signature', SIG_DATA_OFFSET + 10],
  ])('tampered quote (%s flipped) is refused with ERR_EVIDENCE_SIGNATURE_INVALID', async (_name, offset) => {
    const { enclave } = await world();
    const ev = withQuote(enclave.evidence, (q) => void (q[offset] = (q[offset] ?? 0) ^ 0x01));
    expect(await evidenceCodes(ev, enclave.manifest)).toEqual({ ok: false, codes: ['ERR_EVIDENCE_SIGNATURE_INVALID'] });
  });

  it('attestation key swapped in the quote is refused (ERR_EVIDENCE_CHAIN_INVALID)', async () => {
    const { enclave } = await world();
    const ev = withQuote(
      enclave.evidence,
      (q) => void (q[SIG_DATA_OFFSET + 64 + 3] = (q[SIG_DATA_OFFSET + 64 + 3] ?? 0) ^ 1),
    );
    expect((await evidenceCodes(ev, enclave.manifest)).codes).toEqual(['ERR_EVIDENCE_CHAIN_INVALID']);
  });

  it('forged attestation-key certificate is refused (ERR_EVIDENCE_CHAIN_INVALID)', async () => {
    const { enclave } = await world();
    const ev = clone(enclave.evidence);
    const col = ev.collateral as { chain: string[] };
    const [h, p, s] = (col.chain[0] ?? '').split('.');
    col.chain[0] = `${h}.${p}.${(s ?? '').slice(0, -4)}AAAA`;
    expect((await evidenceCodes(ev, enclave.manifest)).codes).toEqual(['ERR_EVIDENCE_CHAIN_INVALID']);
  });

  it('evidence re-signed under an attacker root is refused when the policy pins the root (ERR_EVIDENCE_ROOT_UNTRUSTED)', async () => {
    const { enclave } = await world();
    const attacker = await simEnclave({ seed: 'attacker' });
    const policy = simPolicy(
      (p) => (p.evidence.platforms.sim = { rootKeys: [enclave.rootFingerprint as `0x${string}`] }),
    );
    expect((await evidenceCodes(enclave.evidence, enclave.manifest, policy)).ok).toBe(true);
    expect((await evidenceCodes(attacker.evidence, attacker.manifest, policy)).codes).toEqual([
      'ERR_EVIDENCE_ROOT_UNTRUSTED',
    ]);
  });

  it('key not bound in report_data: substituted JWS key is refused (ERR_EVIDENCE_REPORT_DATA_MISMATCH)', async () => {
    const { enclave } = await world();
    const other = await simEnclave({ seed: 'other' });
    const ev = { ...clone(enclave.evidence), keys: { ...enclave.evidence.keys, jws: other.evidence.keys.jws } };
    expect((await evidenceCodes(ev, enclave.manifest)).codes).toEqual(['ERR_EVIDENCE_REPORT_DATA_MISMATCH']);
  });

  it.each(['chain', 'encryption'] as const)(
    'key not bound in report_data: substituted %s key is refused',
    async (which) => {
      const { enclave } = await world();
      const other = await simEnclave({ seed: 'other' });
      const ev = {
        ...clone(enclave.evidence),
        keys: { ...enclave.evidence.keys, [which]: other.evidence.keys[which] },
      };
      expect((await evidenceCodes(ev, enclave.manifest)).codes).toEqual(['ERR_EVIDENCE_REPORT_DATA_MISMATCH']);
    },
  );

  it('code swapped: a manifest naming other code than the one measured is refused (ERR_MANIFEST_MISMATCH)', async () => {
    const { enclave } = await world();
    const manifest = { ...enclave.manifest, codeHash: hex32('ee') };
    expect((await evidenceCodes(enclave.evidence, manifest)).codes).toEqual(['ERR_MANIFEST_MISMATCH']);
  });

  it('model swapped: an enclave running another model is refused by a policy pinning the model (ERR_MANIFEST_MODEL_HASH_NOT_ALLOWED)', async () => {
    const { enclave } = await world();
    const policy = simPolicy((p) => (p.manifest.modelHashes = [hex32('ab')]));
    expect((await evidenceCodes(enclave.evidence, enclave.manifest, policy)).codes).toEqual([
      'ERR_MANIFEST_MODEL_HASH_NOT_ALLOWED',
    ]);
  });

  it('code swapped: a consistent enclave with other code is refused by a policy pinning the code (ERR_MANIFEST_CODE_HASH_NOT_ALLOWED)', async () => {
    const { enclave } = await world();
    const policy = simPolicy((p) => (p.manifest.codeHashes = [hex32('ab')]));
    expect((await evidenceCodes(enclave.evidence, enclave.manifest, policy)).codes).toEqual([
      'ERR_MANIFEST_CODE_HASH_NOT_ALLOWED',
    ]);
  });

  it('debug evidence is refused (ERR_EVIDENCE_DEBUG)', async () => {
    const debug = await simEnclave({ debug: true });
    expect((await evidenceCodes(debug.evidence, debug.manifest)).codes).toEqual(['ERR_EVIDENCE_DEBUG']);
  });

  it('expired attestation-key certificate is refused (ERR_EVIDENCE_CERT_EXPIRED)', async () => {
    const { enclave } = await world();
    const r = await verifyEvidence(enclave.evidence, {
      policy: simPolicy(),
      now: new Date('2030-01-01T00:00:00Z'),
      manifest: enclave.manifest,
    });
    expect(r.checks.filter((c) => !c.ok).map((c) => c.code)).toEqual(['ERR_EVIDENCE_CERT_EXPIRED']);
  });

  it.each([
    ['unknown version', (e: Record<string, unknown>) => (e.version = 2), 'ERR_UNKNOWN_VERSION'],
    ['unknown platform', (e: Record<string, unknown>) => (e.platform = 'tpm'), 'ERR_UNKNOWN_PLATFORM'],
    ['unknown field', (e: Record<string, unknown>) => (e.extra = 1), 'ERR_EVIDENCE_MALFORMED'],
    [
      'truncated quote',
      (e: Record<string, unknown>) => (e.quote = (e.quote as string).slice(0, 400)),
      'ERR_EVIDENCE_TRUNCATED',
    ],
    ['oversized quote', (e: Record<string, unknown>) => (e.quote = 'A'.repeat(2_000_004)), 'ERR_EVIDENCE_MALFORMED'],
  ])('%s is refused with its code', async (_n, mutate, code) => {
    const { enclave } = await world();
    const ev = clone(enclave.evidence) as unknown as Record<string, unknown>;
    mutate(ev);
    expect((await evidenceCodes(ev, enclave.manifest)).codes).toEqual([code]);
  });

  it('a platform with no verifier is refused (fail closed)', async () => {
    const { enclave } = await world();
    const ev = { ...clone(enclave.evidence), platform: 'tdx' };
    const r = await verifyEvidence(ev, { policy: simPolicy(), now: NOW, verifiers: {} });
    expect(r.ok).toBe(false);
    expect(r.checks.map((c) => c.code).filter(Boolean)).toContain('ERR_EVIDENCE_PLATFORM_NOT_ALLOWED');
  });
});

describe('result attestations', () => {
  it('verify under the evidence-bound keys', async () => {
    const { enclave, attestation } = await world();
    expect(await resultCodes(enclave, attestation)).toEqual({ ok: true, codes: [] });
  });

  it('each signed field of the result flipped is refused (ERR_RESULT_SIGNATURE_INVALID)', async () => {
    const { enclave, attestation } = await world();
    const [h, p, s] = attestation.jws.split('.') as [string, string, string];
    const body = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as Record<string, unknown>;
    const flips: Record<string, unknown> = {
      requestId: hex32('44'),
      nonce: hex32('55'),
      consentRef: hex32('66'),
      inputCommitment: hex32('77'),
      manifestHash: hex32('88'),
      pipelineId: hex32('99'),
      modelHash: hex32('aa'),
      evidenceDigest: hex32('bb'),
      output: { ...DEMO_OUTPUT, score: 999 },
      iat: 1,
      exp: 9_999_999_999,
      executionProvider: 'cuda',
      platform: 'tdx',
    };
    for (const [field, value] of Object.entries(flips)) {
      const forged = base64url.encode(JSON.stringify({ ...body, [field]: value }));
      const r = await resultCodes(enclave, { ...attestation, jws: `${h}.${forged}.${s}` });
      expect(r.codes, field).toEqual(['ERR_RESULT_SIGNATURE_INVALID']);
    }
  });

  it('flipped EIP-712 signature is refused (ERR_RESULT_EIP712_SIGNATURE_INVALID)', async () => {
    const { enclave, attestation } = await world();
    const sig = attestation.eip712.signature;
    const flipped = `${sig.slice(0, 20)}${sig[20] === '0' ? '1' : '0'}${sig.slice(21)}`;
    expect(
      (await resultCodes(enclave, { ...attestation, eip712: { ...attestation.eip712, signature: flipped } })).codes,
    ).toEqual(['ERR_RESULT_EIP712_SIGNATURE_INVALID']);
  });

  it('wrong EIP-712 domain: a signature moved to another chain or contract is refused', async () => {
    const { enclave, attestation } = await world();
    const moved = {
      ...attestation,
      eip712: { ...attestation.eip712, domain: { ...attestation.eip712.domain, chainId: 1 } },
    };
    expect((await resultCodes(enclave, moved)).codes).toEqual(['ERR_RESULT_EIP712_SIGNATURE_INVALID']);
    const pinned = simPolicy(
      (p) => (p.result.eip712Domains = [{ chainId: 8453, verifyingContract: `0x${'12'.repeat(20)}` }]),
    );
    expect((await resultCodes(enclave, attestation, { policy: pinned })).codes).toEqual([
      'ERR_RESULT_EIP712_DOMAIN_NOT_ALLOWED',
    ]);
  });

  it('high-s EIP-712 signature (malleated) is refused', async () => {
    const { enclave, attestation } = await world();
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const s = BigInt(`0x${attestation.eip712.signature.slice(66)}`);
    const high = `${attestation.eip712.signature.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}`;
    expect(
      (await resultCodes(enclave, { ...attestation, eip712: { ...attestation.eip712, signature: high } })).codes,
    ).toEqual(['ERR_RESULT_EIP712_SIGNATURE_INVALID']);
  });

  it('malleated secp256k1 signature (high-s, flipped v) is refused', async () => {
    const enclave = await simEnclave({ chainScheme: 'secp256k1' });
    const att = await enclave.signResult(request, DEMO_OUTPUT, commitInputs(SAMPLE_STATEMENT));
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const sig = att.eip712.signature;
    const [r, s, v] = [sig.slice(2, 66), BigInt(`0x${sig.slice(66, 130)}`), Number.parseInt(sig.slice(130), 16)];
    expect([27, 28]).toContain(v); // the enclave's canonical form: low-s, v 27/28
    const refused = async (signature: string) => {
      const { codes, checks } = await resultCodesFor(
        enclave,
        { ...att, eip712: { ...att.eip712, signature } },
        { expected: request },
      );
      expect(codes).toEqual(['ERR_RESULT_EIP712_SIGNATURE_INVALID']);
      expect(checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['result.eip712']);
    };
    // (r, n - s, v ^ 1) recovers the same address: a second valid-looking encoding of one signature.
    await refused(`0x${r}${(n - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`);
    // The same signature with v as a bare recovery id (0/1).
    await refused(`0x${r}${sig.slice(66, 130)}${(v - 27).toString(16).padStart(2, '0')}`);
  });

  it('wrong key: a result signed by another enclave is refused (ERR_RESULT_KEY_NOT_BOUND)', async () => {
    const { enclave } = await world();
    const other = await simEnclave({ seed: 'other' });
    const foreign = await other.signResult(request, DEMO_OUTPUT, commitInputs(SAMPLE_STATEMENT));
    expect((await resultCodes(enclave, foreign)).codes).toEqual(['ERR_RESULT_KEY_NOT_BOUND']);
  });

  it('wrong key: another key claiming the bound kid is refused (ERR_RESULT_SIGNATURE_INVALID)', async () => {
    const { enclave, attestation } = await world();
    const other = await simEnclave({ seed: 'other' });
    const payload = base64url.decode(attestation.jws.split('.')[1] ?? '');
    const jws = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'ES256', kid: enclave.evidence.keys.jws.kid, typ: 'props-result+jws' })
      .sign(other.keys.jwsPrivateKey);
    expect((await resultCodes(enclave, { ...attestation, jws })).codes).toEqual(['ERR_RESULT_SIGNATURE_INVALID']);
  });

  it('JWS alg "none" is refused (ERR_RESULT_ALG_NOT_ALLOWED)', async () => {
    const { enclave, attestation } = await world();
    const header = base64url.encode(
      JSON.stringify({ alg: 'none', kid: enclave.evidence.keys.jws.kid, typ: 'props-result+jws' }),
    );
    const jws = `${header}.${attestation.jws.split('.')[1]}.`;
    expect((await resultCodes(enclave, { ...attestation, jws })).codes).toEqual(['ERR_RESULT_ALG_NOT_ALLOWED']);
    const withSig = `${header}.${attestation.jws.split('.')[1]}.AAAA`;
    expect((await resultCodes(enclave, { ...attestation, jws: withSig })).codes).toEqual([
      'ERR_RESULT_ALG_NOT_ALLOWED',
    ]);
  });

  it('algorithm confusion: HS256 keyed with the public JWK is refused (ERR_RESULT_ALG_NOT_ALLOWED)', async () => {
    const { enclave, attestation } = await world();
    const header = base64url.encode(
      JSON.stringify({ alg: 'HS256', kid: enclave.evidence.keys.jws.kid, typ: 'props-result+jws' }),
    );
    const payload = attestation.jws.split('.')[1] ?? '';
    const mac = createHmac('sha256', JSON.stringify(enclave.evidence.keys.jws))
      .update(`${header}.${payload}`)
      .digest('base64url');
    expect((await resultCodes(enclave, { ...attestation, jws: `${header}.${payload}.${mac}` })).codes).toEqual([
      'ERR_RESULT_ALG_NOT_ALLOWED',
    ]);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: enclave.evidence.keys.jws.kid, typ: 'props-result+jws' })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect((await resultCodes(enclave, { ...attestation, jws: jwt })).codes).toEqual(['ERR_RESULT_ALG_NOT_ALLOWED']);
  });

  it('replayed nonce: the same result accepted twice by one lender is refused (ERR_RESULT_NONCE_REPLAYED)', async () => {
    const { enclave, attestation } = await world();
    const store = new Set<string>();
    expect((await resultCodes(enclave, attestation, { nonceStore: store })).ok).toBe(true);
    expect((await resultCodes(enclave, attestation, { nonceStore: store })).codes).toEqual([
      'ERR_RESULT_NONCE_REPLAYED',
    ]);
  });

  it('result for another nonce or request is refused', async () => {
    const { enclave, attestation } = await world();
    expect((await resultCodes(enclave, attestation, { expected: { ...request, nonce: hex32('00') } })).codes).toEqual([
      'ERR_RESULT_NONCE_MISMATCH',
    ]);
    expect(
      (await resultCodes(enclave, attestation, { expected: { ...request, requestId: hex32('00') } })).codes,
    ).toEqual(['ERR_RESULT_REQUEST_MISMATCH']);
  });

  it('expired and not-yet-valid results are refused', async () => {
    const { enclave, attestation } = await world();
    expect((await resultCodes(enclave, attestation, { now: new Date(NOW.getTime() + 8 * 86400_000) })).codes).toEqual([
      'ERR_RESULT_EXPIRED',
    ]);
    expect((await resultCodes(enclave, attestation, { now: new Date(NOW.getTime() - 3600_000) })).codes).toEqual([
      'ERR_RESULT_NOT_YET_VALID',
    ]);
  });

  it('a result from another pipeline is refused (ERR_RESULT_EVIDENCE_MISMATCH)', async () => {
    const { attestation } = await world();
    const other = await simEnclave({ seed: 'enclave', codeHash: hex32('dd') }); // same keys, different manifest
    expect((await resultCodes(other, attestation)).codes).toEqual(['ERR_RESULT_EVIDENCE_MISMATCH']);
  });

  it.each([
    ['unknown version', (a: Record<string, unknown>) => (a.version = 9), 'ERR_UNKNOWN_VERSION'],
    ['unknown field', (a: Record<string, unknown>) => (a.extra = true), 'ERR_RESULT_MALFORMED'],
    ['oversized JWS', (a: Record<string, unknown>) => (a.jws = `${'a'.repeat(20_000)}.b.c`), 'ERR_RESULT_MALFORMED'],
  ])('%s is refused with its code', async (_n, mutate, code) => {
    const { enclave, attestation } = await world();
    const a = clone(attestation) as unknown as Record<string, unknown>;
    mutate(a);
    expect((await resultCodes(enclave, a)).codes).toEqual([code]);
  });

  it('inconsistent decision: an approve below the threshold is refused', async () => {
    const { enclave } = await world();
    // Signed by the genuine enclave: only the decision rule (approve exactly when score ≥ threshold) refuses it.
    for (const output of [
      { score: 10, decision: 'approve' as const, threshold: 900, reasonCodes: [] },
      { score: 950, decision: 'decline' as const, threshold: 900, reasonCodes: [] },
    ]) {
      const att = await enclave.signResult(request, output, commitInputs(SAMPLE_STATEMENT));
      const { codes, checks } = await resultCodesFor(enclave, att, { expected: request });
      expect(codes).toEqual(['ERR_RESULT_DECISION_INCONSISTENT']);
      expect(checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['result.binding']);
    }
    const edge = await enclave.signResult(
      request,
      { score: 900, decision: 'approve', threshold: 900, reasonCodes: [] },
      commitInputs(SAMPLE_STATEMENT),
    );
    expect(await resultCodes(enclave, edge)).toEqual({ ok: true, codes: [] });
  });

  it('secp256k1 on-chain key works behind the same signer interface', async () => {
    const enclave = await simEnclave({ chainScheme: 'secp256k1' });
    const att = await enclave.signResult(request, DEMO_OUTPUT, commitInputs(SAMPLE_STATEMENT));
    expect(att.eip712.signature).toHaveLength(2 + 130);
    expect(await resultCodes(enclave, att)).toEqual({ ok: true, codes: [] });
    const bad = {
      ...att,
      eip712: { ...att.eip712, signature: `${att.eip712.signature.slice(0, 10)}00${att.eip712.signature.slice(12)}` },
    };
    expect((await resultCodes(enclave, bad)).codes).toEqual(['ERR_RESULT_EIP712_SIGNATURE_INVALID']);
  });
});

describe('audit bundle', () => {
  /** The bundle of `attestation`, with its inclusion proof in a log the enclave signs a head of. */
  const loggedBundle = async (enclave: Enclave, attestation: unknown) =>
    logBundleResults(
      enclave,
      buildAuditBundle(
        enclave,
        [
          {
            request: { requestId: request.requestId, nonce: request.nonce },
            attestation: attestation as ResultAttestation,
          },
        ],
        NOW,
      ),
      NOW,
    );

  it('verifies whole, yields an EAR whose status is "warning" because the hardware is simulated', async () => {
    const { enclave, attestation } = await world();
    const bundle = await loggedBundle(enclave, attestation);
    const r = await verifyBundle(bundle, { policy: simPolicy(), now: NOW });
    expect(r.ok).toBe(true);
    const sub = r.ear.submods['props-enclave'];
    expect(sub?.['ear.status']).toBe('warning');
    expect(sub?.['ear.trustworthiness-vector'].hardware).toBe(32);
    expect(sub?.['props.simulated']).toBe(true);
    expect(sub?.['ear.appraisal-policy-id']).toBe('props-default@1');
  });

  it('unpinned code: the EAR does not claim approved executables or configuration', async () => {
    const { enclave, attestation } = await world();
    const bundle = await loggedBundle(enclave, attestation);
    const policy = simPolicy(); // codeHashes, modelHashes and policyHashes: "any"
    const r = await verifyBundle(bundle, { policy, now: NOW });
    expect(r.ok).toBe(true);
    expect(r.checks.filter((c) => c.id.startsWith('manifest.') && c.id.endsWith('-hash')).map((c) => c.pinned)).toEqual(
      [false, false, false],
    );
    const vector = r.ear.submods['props-enclave']?.['ear.trustworthiness-vector'];
    expect(vector?.executables).toBe(33); // AR4SI: unrecognized run-time (warning)
    expect(vector?.configuration).toBe(0); // AR4SI: no claim
    // Even on genuine hardware, unpinned code is at best a warning.
    expect(
      buildEar(r.checks, { policy, now: NOW, simulated: false, ok: true }).submods['props-enclave']?.['ear.status'],
    ).toBe('warning');
  });

  it('pinned code: the EAR claims approved executables and configuration (affirming on genuine hardware)', async () => {
    const { enclave, attestation } = await world();
    const bundle = await loggedBundle(enclave, attestation);
    const policy = simPolicy((p) => {
      p.manifest.codeHashes = [enclave.manifest.codeHash];
      p.manifest.modelHashes = [enclave.manifest.modelHash];
      p.manifest.policyHashes = [enclave.manifest.policyHash];
    });
    const r = await verifyBundle(bundle, { policy, now: NOW });
    expect(r.ok).toBe(true);
    const vector = r.ear.submods['props-enclave']?.['ear.trustworthiness-vector'];
    expect([vector?.executables, vector?.configuration]).toEqual([2, 2]);
    expect(r.ear.submods['props-enclave']?.['ear.status']).toBe('warning'); // simulated hardware
    expect(
      buildEar(r.checks, { policy, now: NOW, simulated: false, ok: true }).submods['props-enclave']?.['ear.status'],
    ).toBe('affirming');
    // Code pinned but the model left "any": the executables are still not all recognized.
    const codeOnly = simPolicy((p) => (p.manifest.codeHashes = [enclave.manifest.codeHash]));
    expect(
      (await verifyBundle(bundle, { policy: codeOnly, now: NOW })).ear.submods['props-enclave']?.[
        'ear.trustworthiness-vector'
      ].executables,
    ).toBe(33);
  });

  it("nonce burning: a bundle refused for a bad log proof does not spend its results' nonces", async () => {
    const { enclave, attestation } = await world();
    const bundle = await loggedBundle(enclave, attestation);
    const badProof = {
      type: 'props-log-inclusion',
      v: 1,
      requestId: request.requestId,
      index: 0,
      treeSize: 1,
      leafHash: hex32('ab'),
      proof: [],
      signedTreeHead: {},
    };
    const seen = new Set<string>();
    const nonceStore = { has: (n: string) => seen.has(n), add: (n: string) => void seen.add(n) };
    const refused = await verifyBundle(
      { ...bundle, logProofs: [badProof] },
      { policy: simPolicy(), now: NOW, nonceStore },
    );
    expect(refused.checks.filter((c) => !c.ok).map((c) => [c.id, c.code])).toEqual([
      ['logProofs[0]', 'ERR_LOG_INCLUSION_INVALID'],
    ]);
    expect(seen.size).toBe(0);
    // The genuine delivery is then accepted, and spends the nonce; a second delivery is a replay.
    expect((await verifyBundle(bundle, { policy: simPolicy(), now: NOW, nonceStore })).ok).toBe(true);
    expect([...seen]).toEqual([request.nonce]);
    const again = await verifyBundle(bundle, { policy: simPolicy(), now: NOW, nonceStore });
    expect(again.checks.filter((c) => !c.ok).map((c) => [c.id, c.code])).toEqual([
      ['results[0].result.nonce', 'ERR_RESULT_NONCE_REPLAYED'],
    ]);
    // Within one bundle a repeated nonce (on another result) is still a replay, and a refused bundle spends none of
    // its nonces.
    const fresh = new Set<string>();
    const other = { ...request, requestId: hex32('44') };
    const second = await enclave.signResult(other, DEMO_OUTPUT, commitInputs(SAMPLE_STATEMENT));
    const twice = await logBundleResults(
      enclave,
      buildAuditBundle(
        enclave,
        [
          {
            request: { requestId: request.requestId, nonce: request.nonce },
            attestation: attestation as ResultAttestation,
          },
          { request: { requestId: other.requestId, nonce: other.nonce }, attestation: second },
        ],
        NOW,
      ),
      NOW,
    );
    const r = await verifyBundle(twice, {
      policy: simPolicy(),
      now: NOW,
      nonceStore: { has: (n) => fresh.has(n), add: (n) => void fresh.add(n) },
    });
    expect(r.checks.filter((c) => !c.ok).map((c) => [c.id, c.code])).toEqual([
      ['results[1].result.nonce', 'ERR_RESULT_NONCE_REPLAYED'],
    ]);
    expect(fresh.size).toBe(0);
  });

  it('every result shows its log inclusion in the checklist, and the EAR says it was verified', async () => {
    const { enclave, attestation } = await world();
    const r = await verifyBundle(await loggedBundle(enclave, attestation), { policy: simPolicy(), now: NOW });
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.id === 'results[0].log-inclusion')).toMatchObject({ ok: true });
    expect(r.ear.submods['props-enclave']?.['props.log-inclusion']).toBe('verified');
  });

  it('attack: a bundle whose log proofs were removed is refused (ERR_LOG_INCLUSION_MISSING)', async () => {
    const { enclave, attestation } = await world();
    const bundle = await loggedBundle(enclave, attestation);
    const r = await verifyBundle({ ...bundle, logProofs: [] }, { policy: simPolicy(), now: NOW });
    expect(r.ok).toBe(false);
    expect(r.checks.filter((c) => !c.ok).map((c) => [c.id, c.code])).toEqual([
      ['results[0].log-inclusion', 'ERR_LOG_INCLUSION_MISSING'],
    ]);
    expect(r.ear.submods['props-enclave']?.['props.log-inclusion']).toBe('failed');
    // One result of two without its proof: that one is named.
    const other = { ...request, requestId: hex32('44'), nonce: hex32('55') };
    const second = await enclave.signResult(other, DEMO_OUTPUT, commitInputs(SAMPLE_STATEMENT));
    const two = await logBundleResults(
      enclave,
      buildAuditBundle(
        enclave,
        [...bundle.results, { request: { requestId: other.requestId, nonce: other.nonce }, attestation: second }],
        NOW,
      ),
      NOW,
    );
    const one = await verifyBundle({ ...two, logProofs: [two.logProofs[0]] }, { policy: simPolicy(), now: NOW });
    expect(one.checks.filter((c) => !c.ok).map((c) => [c.id, c.code])).toEqual([
      ['results[1].log-inclusion', 'ERR_LOG_INCLUSION_MISSING'],
    ]);
  });

  it('attack: a bundle holding one result twice is refused (ERR_BUNDLE_DUPLICATE_RESULT)', async () => {
    const { enclave, attestation } = await world();
    const bundle = await loggedBundle(enclave, attestation);
    // The proof is duplicated too, so nothing but the repetition is wrong (and without a nonce store nothing else sees it).
    const twice = {
      ...bundle,
      results: [bundle.results[0]!, bundle.results[0]!],
      logProofs: [bundle.logProofs[0], bundle.logProofs[0]],
    };
    const r = await verifyBundle(twice, { policy: simPolicy(), now: NOW });
    expect(r.ok).toBe(false);
    expect(r.checks.filter((c) => !c.ok).map((c) => [c.id, c.code])).toEqual([
      ['results[1]', 'ERR_BUNDLE_DUPLICATE_RESULT'],
    ]);
  });

  it('a policy that relaxes log inclusion accepts a bundle without proofs, and says so in the checklist and the EAR', async () => {
    const { enclave, attestation } = await world();
    const bundle = { ...(await loggedBundle(enclave, attestation)), logProofs: [] };
    const relaxed = simPolicy((p) => (p.bundle.requireLogInclusion = false));
    const r = await verifyBundle(bundle, { policy: relaxed, now: NOW });
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.id === 'results[0].log-inclusion')).toMatchObject({ ok: true, pinned: false });
    const sub = r.ear.submods['props-enclave'];
    expect(sub?.['props.log-inclusion']).toBe('relaxed');
    // Even on genuine hardware with everything pinned, a waived log proof holds the verdict at "warning".
    const pinnedAll = simPolicy((p) => {
      p.bundle.requireLogInclusion = false;
      p.manifest.codeHashes = [enclave.manifest.codeHash];
      p.manifest.modelHashes = [enclave.manifest.modelHash];
      p.manifest.policyHashes = [enclave.manifest.policyHash];
    });
    const pr = await verifyBundle(bundle, { policy: pinnedAll, now: NOW });
    expect(
      buildEar(pr.checks, { policy: pinnedAll, now: NOW, simulated: false, ok: true }).submods['props-enclave']?.[
        'ear.status'
      ],
    ).toBe('warning');
    // A proof that is there is still checked under a relaxed policy.
    const withBad = await loggedBundle(enclave, attestation);
    withBad.logProofs[0] = { ...(withBad.logProofs[0] as object), leafHash: hex32('ab') };
    const bad = await verifyBundle(withBad, { policy: relaxed, now: NOW });
    expect(bad.checks.filter((c) => !c.ok).map((c) => [c.id, c.code])).toEqual([
      ['logProofs[0]', 'ERR_LOG_INCLUSION_INVALID'],
    ]);
  });

  it('attack: provenance proofs slipped into a bundle, which nothing there verifies, make it malformed', async () => {
    const { enclave, attestation } = await world();
    const bundle = await loggedBundle(enclave, attestation);
    const r = await verifyBundle(
      { ...bundle, provenance: [{ kind: 'tlsn', forged: true }] },
      { policy: simPolicy(), now: NOW },
    );
    expect(r.ok).toBe(false);
    expect(r.checks.filter((c) => !c.ok).map((c) => c.code)).toEqual(['ERR_BUNDLE_MALFORMED']);
  });

  it('attack: an invalid verification time, against which every validity window would compare false, is refused', async () => {
    const { enclave, attestation } = await world();
    const bundle = await loggedBundle(enclave, attestation);
    // Long after every certificate and the result have expired: refused for that, at a valid time.
    const late = new Date('2036-01-01T00:00:00Z');
    expect((await verifyBundle(bundle, { policy: simPolicy(), now: late })).ok).toBe(false);
    for (const now of [new Date('yesterday'), new Date(Number.NaN), 'now' as unknown as Date]) {
      await expect(verifyBundle(bundle, { policy: simPolicy(), now })).rejects.toMatchObject({
        code: 'ERR_NOW_INVALID',
      });
      await expect(
        verifyEvidence(enclave.evidence, { policy: simPolicy(), now, manifest: enclave.manifest }),
      ).rejects.toMatchObject({ code: 'ERR_NOW_INVALID' });
      await expect(
        verifyResult(attestation, {
          policy: simPolicy(),
          now,
          evidence: enclave.evidence,
          evidenceDigest: enclave.evidenceDigest,
          manifest: enclave.manifest,
          expected: request,
        }),
      ).rejects.toMatchObject({ code: 'ERR_NOW_INVALID' });
    }
  });
});
