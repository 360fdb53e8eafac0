// An instance's side of key release. It verifies each KMS before trusting it (evidence under the instance's policy, a
// KMS manifest of the code this instance ships, the app it expects, all replicas holding one data key), asks one for
// the fleet secrets with this boot's evidence, checks that the release was signed by that KMS and addressed to this
// boot and challenge, and then reports its signed log heads to every replica and reads back the highest witnessed.
import type { KeyObject } from 'node:crypto';
import {
  evidenceDigest as digestEvidence,
  isErrorCode,
  KMS_MODEL_HASH,
  kmsChallenge,
  kmsInfo,
  parseWith,
  PropsError,
  releaseAnswer,
  witnessedHead,
  type Evidence,
  type Hex,
  type KmsInfo,
  type Manifest,
  type PublicJwk,
  type SignedTreeHead,
  type WitnessedHead,
} from '../../protocol/index.ts';
import { verifyEvidence, type PlatformVerifier } from '../../verifier/index.ts';
import type { FleetBoot } from '../boot.ts';
import type { JwsSigner } from '../jws-signer.ts';
import type { KmsPolicy } from './identity.ts';
import { openRelease, signRequest } from './messages.ts';
import { dataKeyPair, secretsFromWire, type FleetSecrets } from './secrets.ts';

export type KmsClientOptions = {
  urls: readonly string[];
  app: Hex;
  /** The instance's own code hash: the KMS must run the code it ships with. */
  codeHash: Hex;
  policy: KmsPolicy;
  clock: () => Date;
  fetch?: typeof fetch;
  verifiers?: Partial<Record<Evidence['platform'], PlatformVerifier>>;
};

export type KmsReplica = { url: string; info: KmsInfo };

export type KmsConnection = {
  readonly replicas: readonly KmsReplica[];
  /** The fleet data key's public JWK, as every replica's evidence binds it. */
  readonly dataKey: PublicJwk;
  /**
   * The boot hook: asks a replica for the secrets, hands them to `onSecrets` (with the heads it witnessed, when the
   * asker is a KMS replica), answers the data key.
   */
  fleetBoot(onSecrets: (s: FleetSecrets, heads: readonly WitnessedHead[]) => void): FleetBoot;
  /** The highest head any replica witnessed for `logId` (undefined: none did); no replica answering is an error. */
  witnessedHead(logId: Hex): Promise<{ treeSize: number; root: Hex } | undefined>;
  /** Reports signed heads to every replica (latest wins, one in flight per replica), with consistency proofs. */
  headReporter(o: HeadReporterOptions): (head: SignedTreeHead) => void;
};

export type HeadReporterOptions = {
  evidence: Evidence;
  manifest: Manifest;
  logId: Hex;
  consistency(oldSize: number, newSize: number): Hex[];
  onError?: (code: string) => void;
  /**
   * The least time between two reports to one replica (default 200 ms): a log signs a head per batch, and reporting
   * each would keep a replica verifying heads without pause. The latest head waiting is the one sent.
   */
  minIntervalMs?: number;
};

type Answer = { status: number; json: unknown };

async function call(f: typeof fetch, url: string, body?: unknown): Promise<Answer> {
  let res: Response;
  try {
    res = await f(url, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (cause) {
    throw new PropsError('ERR_KMS_UNREACHABLE', { cause });
  }
  const json = await res.json().catch(() => undefined);
  return { status: res.status, json };
}

/** A refusal the KMS answered, as the coded error it named (or ERR_KMS_ANSWER_MALFORMED). */
function refusal(a: Answer): PropsError {
  const code = (a.json as { code?: unknown } | undefined)?.code;
  return new PropsError(isErrorCode(code) ? code : 'ERR_KMS_ANSWER_MALFORMED', { detail: `KMS answered ${a.status}` });
}

const ok = (a: Answer): unknown => {
  if (a.status !== 200) throw refusal(a);
  return a.json;
};

async function verifyReplica(o: KmsClientOptions, f: typeof fetch, url: string): Promise<KmsReplica> {
  const info = parseWith(kmsInfo, ok(await call(f, `${url}/v1/kms`)), 'ERR_KMS_ANSWER_MALFORMED');
  if (info.app !== o.app) throw new PropsError('ERR_KMS_MISADDRESSED', { detail: 'app' });
  const report = await verifyEvidence(info.evidence, {
    policy: o.policy.evidence,
    now: o.clock(),
    manifest: info.manifest,
    allowSimulated: o.policy.allowSimulated,
    ...(o.verifiers ? { verifiers: o.verifiers } : {}),
  });
  const failed = report.checks.find((c) => !c.ok);
  if (!report.ok) throw new PropsError('ERR_KMS_EVIDENCE_REFUSED', { detail: `${failed?.id}: ${failed?.code}` });
  if (digestEvidence(info.evidence) !== info.evidenceDigest)
    throw new PropsError('ERR_KMS_EVIDENCE_REFUSED', { detail: 'evidence digest' });
  if (info.manifest.modelHash !== KMS_MODEL_HASH || info.manifest.codeHash !== o.codeHash)
    throw new PropsError('ERR_KMS_EVIDENCE_REFUSED', { detail: 'not the KMS this code ships' });
  return { url, info };
}

/** Connects to the replicas that answer and verify; at least one must. */
export async function connectKms(o: KmsClientOptions): Promise<KmsConnection> {
  const f = o.fetch ?? fetch;
  const tried = await Promise.allSettled(o.urls.map((url) => verifyReplica(o, f, url)));
  const replicas = tried.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : []));
  const first = replicas[0];
  if (!first) {
    const reasons = tried.map((t) => (t.status === 'rejected' ? t.reason : undefined));
    // A KMS that answered and was refused says why; none answering is unreachable.
    throw reasons.find((r) => r instanceof PropsError && r.code !== 'ERR_KMS_UNREACHABLE') ?? reasons[0];
  }
  const dataKey = first.info.evidence.keys.encryption;
  if (replicas.some((r) => r.info.evidence.keys.encryption.kid !== dataKey.kid))
    throw new PropsError('ERR_KMS_EVIDENCE_REFUSED', { detail: 'replicas bind different data keys' });

  async function releaseFrom(
    r: KmsReplica,
    boot: { evidence: Evidence; evidenceDigest: Hex; manifest: Manifest; releaseKey: KeyObject; signJws: JwsSigner },
  ): Promise<{ secrets: FleetSecrets; heads: readonly WitnessedHead[] }> {
    const { nonce } = parseWith(
      kmsChallenge,
      ok(await call(f, `${r.url}/v1/kms/challenge`, {})),
      'ERR_KMS_ANSWER_MALFORMED',
    );
    const request = await signRequest(boot.signJws, {
      v: 1,
      typ: 'props-kms-request',
      app: o.app,
      aud: r.info.evidenceDigest,
      sub: boot.evidenceDigest,
      nonce,
      iat: Math.floor(o.clock().getTime() / 1000),
    });
    const answer = ok(
      await call(f, `${r.url}/v1/kms/release`, { evidence: boot.evidence, manifest: boot.manifest, request }),
    );
    const { release } = parseWith(releaseAnswer, answer, 'ERR_KMS_ANSWER_MALFORMED');
    const claims = await openRelease(release, boot.releaseKey, r.info.evidence.keys.jws);
    if (
      claims.iss !== r.info.evidenceDigest ||
      claims.aud !== boot.evidenceDigest ||
      claims.nonce !== nonce ||
      claims.app !== o.app
    )
      throw new PropsError('ERR_KMS_MISADDRESSED', { detail: 'release' });
    return { secrets: secretsFromWire(claims.secrets), heads: claims.heads ?? [] };
  }

  return {
    replicas,
    dataKey,
    fleetBoot(onSecrets) {
      return {
        dataKey,
        async obtain(boot) {
          let last: unknown;
          for (const r of replicas) {
            try {
              const { secrets, heads } = await releaseFrom(r, boot);
              onSecrets(secrets, heads);
              return (await dataKeyPair(secrets)).privateKey;
            } catch (e) {
              last = e;
              // Only an unreachable replica is worth asking the next one instead; a refusal is final.
              if (!(e instanceof PropsError && e.code === 'ERR_KMS_UNREACHABLE')) throw e;
            }
          }
          throw last;
        },
      };
    },
    async witnessedHead(logId) {
      const answers = await Promise.allSettled(replicas.map((r) => call(f, `${r.url}/v1/kms/heads/${logId}`)));
      let best: WitnessedHead | undefined;
      let answered = false;
      for (const a of answers) {
        if (a.status !== 'fulfilled') continue;
        if (a.value.status === 404) {
          answered = true;
          continue;
        }
        const w = parseWith(witnessedHead, ok(a.value), 'ERR_KMS_ANSWER_MALFORMED');
        answered = true;
        if (w.logId === logId && (!best || w.treeSize > best.treeSize)) best = w;
      }
      if (!answered) throw new PropsError('ERR_STATE_WITNESS_UNAVAILABLE');
      return best ? { treeSize: best.treeSize, root: best.rootHash as Hex } : undefined;
    },
    headReporter: (h) => headReporter(f, replicas, h),
  };
}

function headReporter(
  f: typeof fetch,
  replicas: readonly KmsReplica[],
  o: HeadReporterOptions,
): (head: SignedTreeHead) => void {
  const state = replicas.map(() => ({ witnessed: -1, busy: false, next: undefined as SignedTreeHead | undefined }));
  const interval = o.minIntervalMs ?? 200;
  const pause = () => new Promise<void>((r) => setTimeout(r, interval).unref());
  async function send(i: number): Promise<void> {
    const s = state[i] as (typeof state)[number];
    const r = replicas[i] as KmsReplica;
    while (s.next) {
      const head = s.next;
      s.next = undefined;
      try {
        if (s.witnessed < 0) {
          const a = await call(f, `${r.url}/v1/kms/heads/${o.logId}`);
          s.witnessed = a.status === 404 ? 0 : parseWith(witnessedHead, ok(a), 'ERR_KMS_ANSWER_MALFORMED').treeSize;
        }
        if (head.treeSize <= s.witnessed) continue;
        const consistency = s.witnessed > 0 ? o.consistency(s.witnessed, head.treeSize) : [];
        const a = await call(f, `${r.url}/v1/kms/heads`, {
          evidence: o.evidence,
          manifest: o.manifest,
          head,
          consistency,
        });
        s.witnessed = parseWith(witnessedHead, ok(a), 'ERR_KMS_ANSWER_MALFORMED').treeSize;
      } catch (e) {
        // Asked again at the next head, from what the replica says it witnessed.
        s.witnessed = -1;
        o.onError?.(e instanceof PropsError ? e.code : 'ERR_KMS_UNREACHABLE');
      }
      if (interval > 0) await pause();
    }
  }
  const pump = (i: number) => {
    const s = state[i] as (typeof state)[number];
    if (s.busy) return;
    s.busy = true;
    void send(i).finally(() => {
      s.busy = false;
      if (s.next) pump(i);
    });
  };
  return (head) => {
    state.forEach((s, i) => {
      s.next = head;
      pump(i);
    });
  };
}
