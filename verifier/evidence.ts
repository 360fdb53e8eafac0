// verifyEvidence: is this evidence authentic (platform verifier), and is it acceptable (policy)? Each step is a
// named check; the report is ok only when every check is ok. Simulated evidence is refused unless allowed, and even
// then every report says "simulated".
import {
  evidenceDigest,
  fromBase64,
  manifestHash,
  parseEvidence,
  parseManifest,
  PropsError,
  reportDataFor,
  simMeasurementsFor,
  toHex,
  type EnclaveKeys,
  type Evidence,
  type Hex,
  type Manifest,
  type Platform,
} from '../protocol/index.ts';
import { fail, pass, runCheck, type Check } from './checks.ts';
import { verificationTime } from './now.ts';
import {
  platformVerifiers,
  type PlatformClaims,
  type PlatformVerifier,
  type RealPlatformVerifier,
} from './platforms/index.ts';
import { checkPinned, type Policy } from './policy.ts';

export type VerifyEvidenceOptions = {
  policy: Policy;
  now: Date;
  /** The CLI's --allow-simulated: allows sim evidence even where the policy does not. */
  allowSimulated?: boolean;
  /** The manifest the evidence claims to measure; when given it is bound and checked against policy. */
  manifest?: unknown;
  verifiers?: Partial<Record<Platform, PlatformVerifier>>;
};

export type EvidenceReport = {
  ok: boolean;
  checks: Check[];
  simulated: boolean;
  platform?: Platform;
  claims?: PlatformClaims;
  evidence?: Evidence;
  evidenceDigest?: Hex;
  manifest?: Manifest;
  keys?: EnclaveKeys;
};

export async function verifyEvidence(input: unknown, opts: VerifyEvidenceOptions): Promise<EvidenceReport> {
  verificationTime(opts.now);
  const checks: Check[] = [];
  const done = (extra: Partial<EvidenceReport> = {}): EvidenceReport => ({
    ok: checks.length > 0 && checks.every((c) => c.ok),
    checks,
    simulated: extra.simulated ?? false,
    ...extra,
  });

  let ev: Evidence;
  let digest: Hex;
  try {
    ev = parseEvidence(input);
    // The digest is of the RFC 8785 form, which some JSON cannot take (1e999 in the collateral, nesting too deep).
    digest = evidenceDigest(ev);
    checks.push(pass('evidence.format', `platform ${ev.platform}`));
  } catch (e) {
    checks.push(failFrom('evidence.format', e, 'ERR_EVIDENCE_MALFORMED'));
    return done();
  }
  const simulated = ev.platform === 'sim';
  const base = { simulated, platform: ev.platform, evidence: ev, evidenceDigest: digest, keys: ev.keys };

  // Platform acceptance (policy), checked before and independently of authenticity.
  const platformPolicy = opts.policy.evidence.platforms[ev.platform as keyof Policy['evidence']['platforms']];
  if (simulated && !(opts.policy.evidence.allowSimulated || opts.allowSimulated)) {
    checks.push(
      fail(
        'evidence.platform',
        'ERR_EVIDENCE_SIMULATED_NOT_ALLOWED',
        'SIMULATED evidence: proves nothing about hardware',
      ),
    );
  } else if (!platformPolicy) {
    checks.push(fail('evidence.platform', 'ERR_EVIDENCE_PLATFORM_NOT_ALLOWED', ev.platform));
  } else {
    checks.push(
      pass(
        'evidence.platform',
        simulated ? 'SIMULATED evidence (allowed): proves nothing about hardware' : ev.platform,
      ),
    );
  }

  const verifier = (opts.verifiers ?? platformVerifiers)[ev.platform];
  if (!verifier) {
    checks.push(fail('evidence.signature', 'ERR_UNKNOWN_PLATFORM', ev.platform));
    return done(base);
  }
  let claims: PlatformClaims;
  try {
    claims = await verifier.verify(fromBase64(ev.quote), { now: opts.now, collateral: ev.collateral });
    checks.push(
      pass(
        'evidence.signature',
        simulated ? 'signed by a simulated attestation key' : 'platform signature and chain verify',
      ),
    );
  } catch (e) {
    checks.push(failFrom('evidence.signature', e, 'ERR_EVIDENCE_SIGNATURE_INVALID'));
    return done(base);
  }

  // Real platforms carry their own policy step (TCB status, collateral age, measurement pins) on their section.
  const validate = (verifier as Partial<RealPlatformVerifier<unknown>>).validate;
  if (validate && platformPolicy) {
    const violations = validate.call(verifier, claims, platformPolicy, {
      now: opts.now,
      allowDebugGlobal: opts.policy.evidence.allowDebug,
    });
    if (violations.length === 0)
      checks.push(
        pass(
          'evidence.platform-policy',
          claims.status ? `TCB status ${claims.status}` : 'accepted by the platform section of the policy',
        ),
      );
    for (const v of violations) checks.push(fail('evidence.platform-policy', v.code, v.detail));
  }

  checks.push(
    claims.debug && !opts.policy.evidence.allowDebug
      ? fail('evidence.debug', 'ERR_EVIDENCE_DEBUG')
      : pass('evidence.debug', claims.debug ? 'debug (allowed by policy)' : 'not debug'),
  );

  if (simulated) {
    const roots = opts.policy.evidence.platforms.sim?.rootKeys ?? [];
    checks.push(
      await runCheck(
        'evidence.root',
        () => {
          const r = checkPinned(roots, claims.rootFingerprint ?? '', 'ERR_EVIDENCE_ROOT_UNTRUSTED');
          return r === 'any' ? 'simulated root not pinned (policy: any)' : 'simulated root pinned';
        },
        'ERR_EVIDENCE_ROOT_UNTRUSTED',
      ),
    );
  }

  const expected = toHex(reportDataFor(ev.keys, ev.manifestHash));
  checks.push(
    expected === claims.reportData
      ? pass('evidence.report-data', 'binds the JWS, on-chain and encryption keys and the manifest hash')
      : fail('evidence.report-data', 'ERR_EVIDENCE_REPORT_DATA_MISMATCH'),
  );

  let manifest: Manifest | undefined;
  if (opts.manifest !== undefined) {
    try {
      manifest = parseManifest(opts.manifest);
      if (manifestHash(manifest) !== ev.manifestHash || manifest.platform !== ev.platform)
        throw new PropsError('ERR_MANIFEST_MISMATCH');
      checks.push(pass('manifest.binding', `manifest ${ev.manifestHash.slice(0, 18)}…`));
    } catch (e) {
      checks.push(failFrom('manifest.binding', e, 'ERR_MANIFEST_MISMATCH'));
      manifest = undefined;
    }
    if (manifest) {
      const m = manifest;
      if (simulated) {
        checks.push(
          await runCheck(
            'manifest.measurements',
            () => checkSimMeasurements(claims, m, ev.manifestHash),
            'ERR_EVIDENCE_MEASUREMENT_MISMATCH',
          ),
        );
      }
      const pins = opts.policy.manifest;
      checks.push(
        await pinCheck('manifest.code-hash', pins.codeHashes, m.codeHash, 'ERR_MANIFEST_CODE_HASH_NOT_ALLOWED'),
      );
      checks.push(
        await pinCheck('manifest.model-hash', pins.modelHashes, m.modelHash, 'ERR_MANIFEST_MODEL_HASH_NOT_ALLOWED'),
      );
      checks.push(
        await pinCheck('manifest.policy-hash', pins.policyHashes, m.policyHash, 'ERR_MANIFEST_POLICY_HASH_NOT_ALLOWED'),
      );
    }
  }
  return done(manifest ? { ...base, claims, manifest } : { ...base, claims });
}

// A pin check that passes under policy "any" compared nothing; it says so, in its detail and its `pinned` flag.
async function pinCheck(
  id: string,
  list: 'any' | readonly string[],
  value: string,
  code: Parameters<typeof checkPinned>[2],
): Promise<Check> {
  const c = await runCheck(
    id,
    () => (checkPinned(list, value, code) === 'pinned' ? 'pinned by policy' : 'NOT pinned (policy: any)'),
    code,
  );
  return c.ok ? { ...c, pinned: list !== 'any' } : c;
}

function checkSimMeasurements(claims: PlatformClaims, m: Manifest, mHash: string): string {
  const want = simMeasurementsFor(m, mHash);
  const got = claims.measurements;
  const pairs: [string, Uint8Array][] = [
    ['mrtd', want.mrtd],
    ['rtmr0', want.rtmr[0]],
    ['rtmr1', want.rtmr[1]],
    ['rtmr2', want.rtmr[2]],
    ['rtmr3', want.rtmr[3]],
    ['mrconfigid', want.mrconfigid],
  ];
  for (const [name, value] of pairs) {
    if (got[name] !== toHex(value)) throw new PropsError('ERR_EVIDENCE_MEASUREMENT_MISMATCH', { detail: name });
  }
  return 'MRTD, RTMR0-3 and MRCONFIGID match the manifest';
}

export function failFrom(id: string, e: unknown, fallback: Parameters<typeof fail>[1]): Check {
  const code = (e instanceof PropsError ? e.code : undefined) ?? fallback;
  return e instanceof PropsError && e.detail ? fail(id, code, e.detail) : fail(id, code);
}
