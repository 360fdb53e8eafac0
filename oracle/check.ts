// Checking the enclave before anything is encrypted: its evidence must pass the data owner's policy (through an
// injected evidence verifier), the manifest must be the one the evidence binds and one the policy pins, and the
// encryption key used later must be the attested one. Only a `CheckedEnclave` made here can be encrypted to.
import {
  PropsError,
  canonicalJson,
  evidenceDigest,
  findPropsError,
  manifestHash,
  parseEvidence,
  parseManifest,
  type Evidence,
  type Hex,
  type Manifest,
  type PublicJwk,
} from '../protocol/index.ts';
import { checkPinned, type Policy } from '../verifier/index.ts';

export type VerifyEvidenceResult = {
  ok: boolean;
  checks: readonly { id: string; ok: boolean; code?: string }[];
  keys?: unknown;
};
/** The verifier's evidence check (verifier/ `verifyEvidence`), injected so this module stays testable and small. */
export type VerifyEvidence = (
  evidence: unknown,
  opts: { policy: Policy; now: Date; allowSimulated?: boolean; manifest?: unknown },
) => Promise<VerifyEvidenceResult>;

export type CheckEnclaveParameters = {
  evidence: unknown;
  manifest: unknown;
  policy: Policy;
  now: Date;
  verifyEvidence: VerifyEvidence;
  allowSimulated?: boolean;
};

declare const checkedBrand: unique symbol;
export type CheckedEnclave = Readonly<{
  evidence: Evidence;
  manifest: Manifest;
  evidenceDigest: Hex;
  /** The attested ECDH-ES (P-256) key submissions are encrypted to. */
  encryptionKey: PublicJwk;
  /** The attested JWS key receipts must verify with. */
  jwsKey: PublicJwk;
  /** Which evidence checks passed, for display. */
  checks: readonly { id: string; ok: boolean; code?: string }[];
}> & { readonly [checkedBrand]: true };

// Runtime twin of the brand: a structurally identical object that did not come from checkEnclave is refused.
const CHECKED = new WeakSet<object>();

export function assertChecked(enclave: CheckedEnclave): void {
  if (typeof enclave !== 'object' || enclave === null || !CHECKED.has(enclave)) {
    throw new PropsError('ERR_ORACLE_EVIDENCE_REJECTED', { detail: 'enclave was not checked' });
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function firstFailure(checks: VerifyEvidenceResult['checks']): string {
  const f = checks.find((c) => !c.ok);
  return f ? `${f.id}${f.code ? `: ${f.code}` : ''}` : 'not ok';
}

export async function checkEnclave(p: CheckEnclaveParameters): Promise<CheckedEnclave> {
  let evidence: Evidence;
  try {
    evidence = parseEvidence(p.evidence);
  } catch (e) {
    throw new PropsError('ERR_ORACLE_EVIDENCE_REJECTED', { detail: findPropsError(e)?.code ?? 'malformed' });
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(p.manifest);
  } catch (e) {
    throw new PropsError('ERR_ORACLE_MANIFEST_REJECTED', { detail: findPropsError(e)?.code ?? 'malformed' });
  }

  let r: VerifyEvidenceResult;
  try {
    // With the manifest, so the verifier runs its manifest checks too: the binding, the pins and, for simulated
    // evidence, that the quote's measurements are those of this manifest's code and model.
    r = await p.verifyEvidence(evidence, {
      policy: p.policy,
      now: p.now,
      manifest,
      ...(p.allowSimulated !== undefined ? { allowSimulated: p.allowSimulated } : {}),
    });
  } catch (e) {
    throw new PropsError('ERR_ORACLE_EVIDENCE_REJECTED', { detail: findPropsError(e)?.code ?? 'verifier failed' });
  }
  if (r.ok !== true || !Array.isArray(r.checks) || r.checks.some((c) => !c.ok)) {
    // A failed manifest check (binding, pins, the measurements of a simulated quote) refuses the manifest.
    const manifestFailed = Array.isArray(r.checks) && r.checks.find((c) => !c.ok)?.id.startsWith('manifest.') === true;
    throw new PropsError(manifestFailed ? 'ERR_ORACLE_MANIFEST_REJECTED' : 'ERR_ORACLE_EVIDENCE_REJECTED', {
      detail: firstFailure(r.checks ?? []),
    });
  }
  // The keys the verifier vouches for must be exactly the keys in the evidence we will use.
  let sameKeys = false;
  try {
    sameKeys = r.keys !== undefined && canonicalJson(r.keys) === canonicalJson(evidence.keys);
  } catch {
    sameKeys = false;
  }
  if (!sameKeys)
    throw new PropsError('ERR_ORACLE_KEY_NOT_ATTESTED', { detail: 'verifier keys differ from evidence keys' });

  if (manifestHash(manifest) !== evidence.manifestHash) {
    throw new PropsError('ERR_ORACLE_MANIFEST_REJECTED', { detail: 'not the manifest the evidence binds' });
  }
  if (manifest.platform !== evidence.platform)
    throw new PropsError('ERR_ORACLE_MANIFEST_REJECTED', { detail: 'platform' });
  const pins: [readonly string[] | 'any', string, string][] = [
    [p.policy.manifest.codeHashes, manifest.codeHash, 'codeHash'],
    [p.policy.manifest.modelHashes, manifest.modelHash, 'modelHash'],
    [p.policy.manifest.policyHashes, manifest.policyHash, 'policyHash'],
  ];
  for (const [list, value, name] of pins) {
    try {
      checkPinned(list, value, 'ERR_ORACLE_MANIFEST_REJECTED');
    } catch {
      throw new PropsError('ERR_ORACLE_MANIFEST_REJECTED', { detail: `${name} not allowed` });
    }
  }

  const enc = evidence.keys.encryption;
  if (
    enc.use !== 'enc' ||
    enc.kty !== 'EC' ||
    enc.crv !== 'P-256' ||
    !enc.y ||
    !(enc.alg === 'ECDH-ES' || enc.alg === 'ECDH-ES+A256KW')
  ) {
    throw new PropsError('ERR_ORACLE_KEY_NOT_ATTESTED', { detail: 'encryption key is not ECDH-ES on P-256' });
  }
  // A copy frozen all the way down: what was checked is what gets encrypted to, whoever else holds the inputs.
  const own = structuredClone({ evidence, manifest, checks: r.checks.map((c) => ({ ...c })) });
  const checked = deepFreeze({
    evidence: own.evidence,
    manifest: own.manifest,
    evidenceDigest: evidenceDigest(own.evidence),
    encryptionKey: own.evidence.keys.encryption,
    jwsKey: own.evidence.keys.jws,
    checks: own.checks,
  }) as unknown as CheckedEnclave;
  CHECKED.add(checked);
  return checked;
}
