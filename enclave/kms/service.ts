// The key-release service's decisions, apart from HTTP: who it is (info), one-use challenges, the release — the asker's
// evidence verified under the KMS policy, its request signed by the key that evidence binds and addressed to this KMS,
// app and challenge, the fleet data key bound, and its pipeline approved on chain for the app (or, for a replica, the
// same KMS code and policy) — and the witnessed heads. A refusal names its check and says nothing of the secrets.
import {
  chainKeyId,
  evidenceDigest as digestEvidence,
  KMS_CHALLENGE_TTL_SECONDS,
  KMS_MODEL_HASH,
  parseEvidence,
  parseWith,
  pipelineId as computePipelineId,
  PropsError,
  releaseRequest,
  toHex,
  witnessRequest,
  type ErrorCode,
  type Evidence,
  type Hex,
  type KmsChallenge,
  type KmsInfo,
  type Manifest,
  type WitnessedHead,
} from '../../protocol/index.ts';
import { verifyEvidence, verifySignedTreeHead, type PlatformVerifier } from '../../verifier/index.ts';
import type { Random } from '../keys.ts';
import type { KmsIdentity, KmsPolicy } from './identity.ts';
import { openRequest, sealRelease } from './messages.ts';
import { secretsToWire, type FleetSecrets } from './secrets.ts';
import { createWitness } from './witness.ts';

/** Whether the registry approves `pipelineId` (registered, active) for `app`; throws when the chain cannot be read. */
export type Approvals = (app: Hex, pipelineId: Hex) => Promise<boolean>;

export type KmsOptions = {
  identity: KmsIdentity;
  app: Hex;
  policy: KmsPolicy;
  secrets: FleetSecrets;
  approvals: Approvals;
  clock: () => Date;
  random: Random;
  /** A replica's start: the heads its peer witnessed, handed over inside the release. */
  heads?: readonly WitnessedHead[];
  /** Platform verifiers (tests inject fixtures' verifiers); the verifier's own by default. */
  verifiers?: Partial<Record<Evidence['platform'], PlatformVerifier>>;
};

export type Kms = {
  info(): KmsInfo;
  challenge(): KmsChallenge;
  release(body: unknown): Promise<{ release: string }>;
  witness(body: unknown): Promise<WitnessedHead>;
  witnessed(logId: Hex): WitnessedHead;
};

/** Challenges outstanding at most: a flood of challenge requests is refused past this, not grown without bound. */
const MAX_CHALLENGES = 100_000;
/** Admitted instances remembered (by evidence digest), so that each head report does not verify evidence again. */
const MAX_ADMITTED = 4_096;

type Admitted = { evidence: Evidence; manifest: Manifest; role: 'instance' | 'replica' };

export function createKms(o: KmsOptions): Kms {
  const { identity, app, policy, clock } = o;
  const challenges = new Map<Hex, number>();
  const admitted = new Map<Hex, Admitted>();
  const witness = createWitness();
  if (o.heads) witness.adopt(o.heads);
  const nowSeconds = () => Math.floor(clock().getTime() / 1000);

  function takeChallenge(nonce: Hex): void {
    const expiresAt = challenges.get(nonce);
    if (expiresAt === undefined) throw new PropsError('ERR_KMS_NONCE_UNKNOWN');
    // Spent at its first use, whatever the outcome: an asker whose request is refused asks for a new challenge.
    challenges.set(nonce, 0);
    if (expiresAt === 0) throw new PropsError('ERR_KMS_NONCE_REPLAYED');
    if (expiresAt < nowSeconds()) throw new PropsError('ERR_KMS_NONCE_UNKNOWN', { detail: 'expired' });
  }

  function sweepChallenges(): void {
    const now = nowSeconds();
    for (const [nonce, expiresAt] of challenges) if (expiresAt !== 0 && expiresAt < now) challenges.delete(nonce);
    // Spent ones are kept until their would-be expiry has surely passed: here, until the map is swept full.
    if (challenges.size >= MAX_CHALLENGES) for (const [n, e] of challenges) if (e === 0) challenges.delete(n);
  }

  /** The asker's evidence verified under the KMS policy, bound to the fleet data key, and its pipeline approved. */
  async function admit(evidence: Evidence, manifestInput: unknown, fresh: boolean): Promise<Admitted> {
    const digest = digestEvidence(evidence);
    const cached = admitted.get(digest);
    if (cached && !fresh) return cached;
    const report = await verifyEvidence(evidence, {
      policy: policy.evidence,
      now: clock(),
      manifest: manifestInput,
      allowSimulated: policy.allowSimulated,
      ...(o.verifiers ? { verifiers: o.verifiers } : {}),
    });
    const failed = report.checks.find((c) => !c.ok);
    if (!report.ok || !report.manifest)
      throw new PropsError((failed?.code as ErrorCode | undefined) ?? 'ERR_EVIDENCE_MALFORMED', {
        detail: failed?.id ?? 'evidence',
      });
    const manifest = report.manifest;
    if (!evidence.keys.release) throw new PropsError('ERR_KMS_RELEASE_KEY_MISSING');
    const data = identity.evidence.keys.encryption;
    if (evidence.keys.encryption.x !== data.x || evidence.keys.encryption.y !== data.y)
      throw new PropsError('ERR_KMS_DATA_KEY_MISMATCH');
    let role: Admitted['role'];
    if (manifest.modelHash === KMS_MODEL_HASH) {
      if (manifest.codeHash !== identity.manifest.codeHash || manifest.policyHash !== identity.manifest.policyHash)
        throw new PropsError('ERR_KMS_PEER_MISMATCH');
      role = 'replica';
    } else {
      // Asked at every release: a pipeline withdrawn or revoked on chain gets nothing from its next request on.
      const pid = computePipelineId(manifest);
      let approved: boolean;
      try {
        approved = await o.approvals(app, pid);
      } catch (cause) {
        throw new PropsError('ERR_KMS_APPROVALS_UNAVAILABLE', { cause });
      }
      if (!approved) throw new PropsError('ERR_KMS_PIPELINE_NOT_APPROVED', { detail: pid });
      role = 'instance';
    }
    const a = { evidence, manifest, role };
    admitted.delete(digest);
    if (admitted.size >= MAX_ADMITTED) admitted.delete(admitted.keys().next().value as Hex);
    admitted.set(digest, a);
    return a;
  }

  return {
    info: () => ({
      v: 1,
      app,
      evidence: identity.evidence,
      manifest: identity.manifest,
      evidenceDigest: identity.evidenceDigest,
    }),

    challenge() {
      if (challenges.size >= MAX_CHALLENGES) sweepChallenges();
      if (challenges.size >= MAX_CHALLENGES) throw new PropsError('ERR_RATE_LIMITED', { detail: 'challenges' });
      const nonce = toHex(o.random(32));
      const expiresAt = nowSeconds() + KMS_CHALLENGE_TTL_SECONDS;
      challenges.set(nonce, expiresAt);
      return { nonce, expiresAt };
    },

    async release(body) {
      const req = parseWith(releaseRequest, body, 'ERR_INPUT_MALFORMED');
      const evidence = parseEvidenceOr(req.evidence);
      const claims = await openRequest(req.request, evidence.keys.jws);
      if (claims.sub !== digestEvidence(evidence))
        throw new PropsError('ERR_KMS_REQUEST_SIGNATURE', { detail: 'sub is not the evidence sent' });
      if (claims.aud !== identity.evidenceDigest) throw new PropsError('ERR_KMS_MISADDRESSED', { detail: 'aud' });
      if (claims.app !== app) throw new PropsError('ERR_KMS_MISADDRESSED', { detail: 'app' });
      if (Math.abs(claims.iat - nowSeconds()) > KMS_CHALLENGE_TTL_SECONDS)
        throw new PropsError('ERR_KMS_NONCE_UNKNOWN', { detail: 'iat' });
      takeChallenge(claims.nonce as Hex);
      // Every release verifies the evidence and asks the registry afresh; head reports may use what was admitted.
      const a = await admit(evidence, req.manifest, true);
      const release = await sealRelease(
        identity.signJws,
        {
          v: 1,
          typ: 'props-kms-release',
          app,
          iss: identity.evidenceDigest,
          aud: claims.sub,
          nonce: claims.nonce,
          iat: nowSeconds(),
          secrets: secretsToWire(o.secrets),
          ...(a.role === 'replica' ? { heads: witness.all() } : {}),
        },
        a.evidence.keys.release as NonNullable<Evidence['keys']['release']>,
      );
      return { release };
    },

    async witness(body) {
      const req = parseWith(witnessRequest, body, 'ERR_INPUT_MALFORMED');
      const a = await admit(parseEvidenceOr(req.evidence), req.manifest, false);
      const head = await verifySignedTreeHead(req.head, a.evidence.keys);
      const logId = chainKeyId(a.evidence.keys.chain.publicKey as Hex);
      return witness.record(
        logId,
        { treeSize: head.treeSize, rootHash: head.rootHash as Hex },
        (req.consistency ?? []) as Hex[],
      );
    },

    witnessed(logId) {
      const w = witness.get(logId);
      if (!w) throw new PropsError('ERR_LOG_NOT_FOUND');
      return w;
    },
  };
}

function parseEvidenceOr(input: unknown): Evidence {
  try {
    return parseEvidence(input);
  } catch (cause) {
    throw new PropsError('ERR_EVIDENCE_MALFORMED', { cause });
  }
}
