// Attestation results shaped like IETF RATS EAR (draft-ietf-rats-ear), with an AR4SI trustworthiness vector:
// 0 no claim; 2..31 affirming; 32..95 warning; 96..127 contraindicated. Simulated hardware is "unsafe" (32):
// the result can never be better than "warning". Code or model not pinned by policy is "unrecognized" (33): the same.
// AR4SI has no transparency claim: `props.log-inclusion` carries it, and a result let through without its log proof
// because the policy relaxed that ("relaxed") also holds the status at "warning".
import { SignJWT, importJWK, type JWK } from 'jose';
import type { Check } from './checks.ts';
import type { Policy } from './policy.ts';

export type LogInclusionClaim = 'none' | 'verified' | 'relaxed' | 'failed';
export type EarStatus = 'none' | 'affirming' | 'warning' | 'contraindicated';
export type TrustVector = {
  'instance-identity': number;
  configuration: number;
  executables: number;
  'file-system': number;
  hardware: number;
  'runtime-opaque': number;
  'storage-opaque': number;
  'sourced-data': number;
};

export type Ear = {
  eat_profile: 'tag:github.com,2023:veraison/ear';
  iat: number;
  'ear.verifier-id': { developer: string; build: string };
  submods: Record<
    string,
    {
      'ear.status': EarStatus;
      'ear.trustworthiness-vector': TrustVector;
      'ear.appraisal-policy-id': string;
      'props.simulated': boolean;
      /** verified: every result in its enclave's log; relaxed: some result without a proof, waived by policy. */
      'props.log-inclusion': LogInclusionClaim;
    }
  >;
};

function tier(v: number): EarStatus {
  if (v === 0) return 'none';
  if (v < 32) return 'affirming';
  if (v < 96) return 'warning';
  return 'contraindicated';
}

const ORDER: EarStatus[] = ['none', 'affirming', 'warning', 'contraindicated'];

function state(checks: Check[], prefix: string): 'ok' | 'fail' | 'absent' {
  const mine = checks.filter((c) => c.id === prefix || c.id.startsWith(`${prefix}.`) || c.id.startsWith(prefix));
  if (mine.length === 0) return 'absent';
  return mine.every((c) => c.ok) ? 'ok' : 'fail';
}

const INCLUSION_ID = /^(results\[\d+\]\.log-inclusion|logProofs\[\d+\])$/;

function logInclusion(checks: Check[]): LogInclusionClaim {
  const mine = checks.filter((c) => INCLUSION_ID.test(c.id));
  if (mine.length === 0) return 'none';
  if (mine.some((c) => !c.ok)) return 'failed';
  return mine.some((c) => c.pinned === false) ? 'relaxed' : 'verified';
}

function pinned(checks: Check[], id: string): boolean {
  return checks.some((c) => c.id === id && c.ok && c.pinned === true);
}

export function buildEar(checks: Check[], opts: { policy: Policy; now: Date; simulated: boolean; ok: boolean }): Ear {
  const v = (s: 'ok' | 'fail' | 'absent', good: number, bad: number) => (s === 'absent' ? 0 : s === 'ok' ? good : bad);
  const hwState = state(checks, 'evidence.signature');
  const vector: TrustVector = {
    'instance-identity': v(state(checks, 'evidence.report-data'), 2, 96),
    // Unpinned (policy "any"): nothing was compared, so no approved configuration (0, no claim) and no recognized
    // executables (33, unrecognized run-time: a warning) are claimed.
    configuration: v(
      state(checks, 'evidence.debug') === 'fail' || state(checks, 'manifest.policy-hash') === 'fail'
        ? 'fail'
        : state(checks, 'manifest.policy-hash'),
      pinned(checks, 'manifest.policy-hash') ? 2 : 0,
      96,
    ),
    executables: v(
      ['manifest.code-hash', 'manifest.model-hash', 'manifest.measurements', 'manifest.binding'].some(
        (p) => state(checks, p) === 'fail',
      )
        ? 'fail'
        : state(checks, 'manifest.code-hash'),
      pinned(checks, 'manifest.code-hash') && pinned(checks, 'manifest.model-hash') ? 2 : 33,
      96,
    ),
    'file-system': 0,
    hardware: hwState === 'ok' ? (opts.simulated ? 32 : 2) : v(hwState, 2, 97),
    'runtime-opaque': v(state(checks, 'evidence.report-data'), 2, 96),
    'storage-opaque': 0,
    'sourced-data': v(state(checks, 'provenance'), 2, 96),
  };
  let status = Object.values(vector)
    .map(tier)
    .reduce<EarStatus>((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a), 'none');
  const inclusion = logInclusion(checks);
  if (inclusion === 'relaxed' && ORDER.indexOf(status) < ORDER.indexOf('warning')) status = 'warning';
  if (!opts.ok) status = 'contraindicated';
  return {
    eat_profile: 'tag:github.com,2023:veraison/ear',
    iat: Math.floor(opts.now.getTime() / 1000),
    'ear.verifier-id': { developer: 'props', build: 'props-verifier/0.1.0' },
    submods: {
      'props-enclave': {
        'ear.status': status,
        'ear.trustworthiness-vector': vector,
        'ear.appraisal-policy-id': opts.policy.id,
        'props.simulated': opts.simulated,
        'props.log-inclusion': inclusion,
      },
    },
  };
}

/** The EAR as a JWT signed by the verifier's own key (ES256 or EdDSA private JWK). */
export async function signEar(ear: Ear, privateJwk: JWK): Promise<string> {
  const alg = privateJwk.crv === 'Ed25519' ? 'EdDSA' : 'ES256';
  const key = await importJWK(privateJwk, alg);
  const jwt = new SignJWT({ ...ear }).setProtectedHeader({
    alg,
    typ: 'JWT',
    ...(privateJwk.kid ? { kid: privateJwk.kid } : {}),
  });
  return jwt.setIssuedAt(ear.iat).sign(key);
}
