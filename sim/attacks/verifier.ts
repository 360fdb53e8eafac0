// The verifier layer: evidence and results a lender's pinned policy must refuse, checked offline by the lender.
import { createHmac } from 'node:crypto';
import { base64url } from 'jose';
import { loadDefaultPolicy, verifyEvidence } from '../../verifier/index.ts';
import { random32 } from '../world.ts';
import { firstFailure, honest, verifyAs, type AttackContext } from './context.ts';
import { bindScenarios, type Attempt, type Scenario, type ScenarioOn } from './types.ts';

async function manifestNamesOtherCode({ w }: AttackContext): Promise<Attempt> {
  const r = await verifyEvidence(w.enclave.evidence, {
    policy: w.lenderPolicy,
    now: new Date(),
    manifest: { ...w.enclave.manifest, codeHash: random32() },
  });
  return { code: firstFailure(r) };
}

async function unpinnedCode({ w }: AttackContext): Promise<Attempt> {
  const policy = structuredClone(w.lenderPolicy);
  policy.manifest.codeHashes = [random32()];
  return {
    code: firstFailure(
      await verifyEvidence(w.enclave.evidence, { policy, now: new Date(), manifest: w.enclave.manifest }),
    ),
  };
}

async function debugEvidence({ w }: AttackContext): Promise<Attempt> {
  const dbg = await w.bootSim({ debug: true });
  return {
    code: firstFailure(
      await verifyEvidence(dbg.evidence, { policy: w.lenderPolicy, now: new Date(), manifest: dbg.manifest }),
    ),
  };
}

async function simulatedUnderProduction({ w }: AttackContext): Promise<Attempt> {
  return {
    code: firstFailure(
      await verifyEvidence(w.enclave.evidence, {
        policy: loadDefaultPolicy(),
        now: new Date(),
        manifest: w.enclave.manifest,
      }),
    ),
  };
}

async function tamperedResult(c: AttackContext): Promise<Attempt> {
  const h = await honest(c);
  const [hd, , s] = h.attestation.jws.split('.');
  const forged = base64url.encode(
    JSON.stringify({ ...h.body, output: { ...h.body.output, score: 999, decision: 'approve' } }),
  );
  return { code: firstFailure(await verifyAs(c, { ...h.attestation, jws: `${hd}.${forged}.${s}` }, h.expected)) };
}

async function replayedScoreNonce(c: AttackContext): Promise<Attempt> {
  const h = await honest(c);
  const seen = new Set<string>();
  const first = await verifyAs(c, h.attestation, h.expected, c.w.lenderPolicy, seen);
  if (!first.ok) return { code: 'FIRST_USE_REFUSED' };
  return {
    code: firstFailure(await verifyAs(c, h.attestation, h.expected, c.w.lenderPolicy, seen)),
    traceFree: seen.size === 1,
  };
}

async function resultAlgNone(c: AttackContext): Promise<Attempt> {
  const h = await honest(c);
  const hd = base64url.encode(
    JSON.stringify({ alg: 'none', kid: c.w.enclave.evidence.keys.jws.kid, typ: 'props-result+jws' }),
  );
  return {
    code: firstFailure(
      await verifyAs(c, { ...h.attestation, jws: `${hd}.${h.attestation.jws.split('.')[1]}.` }, h.expected),
    ),
  };
}

async function algorithmConfusion(c: AttackContext): Promise<Attempt> {
  const h = await honest(c);
  const jwk = c.w.enclave.evidence.keys.jws;
  const hd = base64url.encode(JSON.stringify({ alg: 'HS256', kid: jwk.kid, typ: 'props-result+jws' }));
  const p = h.attestation.jws.split('.')[1];
  const mac = createHmac('sha256', JSON.stringify(jwk)).update(`${hd}.${p}`).digest('base64url');
  return { code: firstFailure(await verifyAs(c, { ...h.attestation, jws: `${hd}.${p}.${mac}` }, h.expected)) };
}

const VERIFIER: ScenarioOn<AttackContext>[] = [
  {
    name: 'code swapped (manifest names other code than measured)',
    layer: 'verifier',
    expected: 'ERR_MANIFEST_MISMATCH',
    run: manifestNamesOtherCode,
  },
  {
    name: 'code swapped (consistent enclave running unpinned code)',
    layer: 'verifier',
    expected: 'ERR_MANIFEST_CODE_HASH_NOT_ALLOWED',
    run: unpinnedCode,
  },
  { name: 'debug evidence', layer: 'verifier', expected: 'ERR_EVIDENCE_DEBUG', run: debugEvidence },
  {
    name: 'simulated evidence under a production policy',
    layer: 'verifier',
    expected: 'ERR_EVIDENCE_SIMULATED_NOT_ALLOWED',
    run: simulatedUnderProduction,
  },
  {
    name: 'tampered result (score raised after signing)',
    layer: 'verifier',
    expected: 'ERR_RESULT_SIGNATURE_INVALID',
    run: tamperedResult,
  },
  {
    name: 'replayed score nonce (same result presented twice)',
    layer: 'verifier',
    expected: 'ERR_RESULT_NONCE_REPLAYED',
    run: replayedScoreNonce,
  },
  {
    name: 'JWS alg "none" on a result',
    layer: 'verifier',
    expected: 'ERR_RESULT_ALG_NOT_ALLOWED',
    run: resultAlgNone,
  },
  {
    name: 'algorithm confusion (HS256 keyed with the public JWK)',
    layer: 'verifier',
    expected: 'ERR_RESULT_ALG_NOT_ALLOWED',
    run: algorithmConfusion,
  },
];

/** The verifier catalogue, in the order it runs. */
export const verifierScenarios = (c: AttackContext): Scenario[] => bindScenarios(VERIFIER, c);
