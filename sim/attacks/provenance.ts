// The provenance layer: bank statements whose signature, signer, issuer, host, age or algorithm the enclave's
// provenance policy must refuse.
import { base64url } from 'jose';
import { SIGNED_SOURCE_JWS_TYP } from '../../protocol/index.ts';
import { verifyProvenance } from '../../verifier/index.ts';
import { makeKey, makeSignedSource } from '../../testing/provenance.ts';
import { rejection, type AttackContext } from './context.ts';
import { bindScenarios, type Attempt, type Scenario, type ScenarioOn } from './types.ts';

type SigningKey = Awaited<ReturnType<typeof makeKey>>;

const proofOf = (jws: string) => ({ version: 1, kind: 'signed-source', jws });

async function provenanceCode({ prov }: AttackContext, proof: unknown): Promise<Attempt> {
  return { code: await rejection(() => verifyProvenance(proof, { policy: prov.policy, now: new Date() })) };
}

/** A statement `key` signs as issued by `iss`, `age` seconds ago. */
async function signedBy(c: AttackContext, key: SigningKey, iss: string, age = 60): Promise<Attempt> {
  const { nowS } = c.prov;
  return provenanceCode(c, proofOf(await makeSignedSource(key, { iss, iat: nowS - age, exp: nowS + 600 })));
}

async function tamperedStatement(c: AttackContext): Promise<Attempt> {
  const [h, p, s] = c.prov.genuine.split('.') as [string, string, string];
  const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as {
    statement: { openingBalance: number };
  };
  payload.statement.openingBalance += 1_000_000;
  return provenanceCode(c, proofOf(`${h}.${base64url.encode(JSON.stringify(payload))}.${s}`));
}

async function forgedSourceSignature(c: AttackContext): Promise<Attempt> {
  return signedBy(c, await makeKey('bank-2026'), 'bank.props.test');
}

async function untrustedSigner(c: AttackContext): Promise<Attempt> {
  return signedBy(c, await makeKey('rogue-1'), 'bank.props.test');
}

async function sourceImpersonation(c: AttackContext): Promise<Attempt> {
  return signedBy(c, c.prov.otherBankKey, 'bank.props.test');
}

async function hostMismatch(c: AttackContext): Promise<Attempt> {
  return signedBy(c, c.prov.bankKey, 'evil.props.test');
}

async function staleProof(c: AttackContext): Promise<Attempt> {
  return signedBy(c, c.prov.bankKey, 'bank.props.test', 7200);
}

async function sourceAlgNone(c: AttackContext): Promise<Attempt> {
  const [, p] = c.prov.genuine.split('.');
  const h = base64url.encode(JSON.stringify({ alg: 'none', typ: SIGNED_SOURCE_JWS_TYP, kid: c.prov.bankKey.jwk.kid }));
  return provenanceCode(c, proofOf(`${h}.${p}.AAAA`));
}

const PROVENANCE: ScenarioOn<AttackContext>[] = [
  {
    name: 'tampered statement (balance edited after the bank signed it)',
    layer: 'provenance',
    expected: 'ERR_PROVENANCE_SIGNATURE_INVALID',
    run: tamperedStatement,
  },
  {
    name: 'forged source signature (untrusted signer claiming the bank kid)',
    layer: 'provenance',
    expected: 'ERR_PROVENANCE_SIGNATURE_INVALID',
    run: forgedSourceSignature,
  },
  {
    name: 'untrusted signer (unpinned key id)',
    layer: 'provenance',
    expected: 'ERR_PROVENANCE_SIGNER_UNTRUSTED',
    run: untrustedSigner,
  },
  {
    name: 'source impersonation (another pinned bank signing as this bank)',
    layer: 'provenance',
    expected: 'ERR_PROVENANCE_ISSUER_MISMATCH',
    run: sourceImpersonation,
  },
  {
    name: 'host mismatch (statement issued by another host)',
    layer: 'provenance',
    expected: 'ERR_PROVENANCE_HOST_NOT_ALLOWED',
    run: hostMismatch,
  },
  {
    name: 'stale proof (statement signed two hours ago)',
    layer: 'provenance',
    expected: 'ERR_PROVENANCE_STALE',
    run: staleProof,
  },
  {
    name: 'source JWS alg "none"',
    layer: 'provenance',
    expected: 'ERR_PROVENANCE_ALG_NOT_ALLOWED',
    run: sourceAlgNone,
  },
];

/** The provenance catalogue, in the order it runs. */
export const provenanceScenarios = (c: AttackContext): Scenario[] => bindScenarios(PROVENANCE, c);
