// `props sim --attacks`: the adversarial catalogue. Each scenario plays one threat against the running world and
// must be rejected at the right layer with its expected code, leaving no trace (no payment, job still open, no
// nonce consumed). A scenario that is accepted, or rejected for another reason, fails the run.
import { createHmac } from 'node:crypto';
import { copyFileSync, appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url } from 'jose';
import { hashTypedData, keccak256, type Hex } from 'viem';
import {
  chainKeyId,
  checkpointDigest,
  findPropsError,
  fromHex,
  resultMessage,
  RESULT_TYPES,
  toTypedDataDomain,
  utf8,
  SIGNED_SOURCE_JWS_TYP,
  type ResultAttestation,
  type ResultBody,
} from '../protocol/index.ts';
import { commitInputs, DEFAULT_MODEL_PATH, loadModel } from '../enclave/index.ts';
import { loadDefaultPolicy, verifyEvidence, verifyProvenance, verifyResult, type Policy } from '../verifier/index.ts';
import { basePolicy, makeKey, makeSignedSource } from '../verifier/provenance/test-helpers.ts';
import { deploy, createPropsChainClient } from '../contracts/index.ts';
import { generateBorrowers } from './bank/generator.ts';
import { createWorld, jobIdHex, random32, type World } from './world.ts';
import { startBorrowerSide } from './borrowers.ts';
import { startScoringService, type RunningService } from './service.ts';
import { checkEnclave, encryptSubmission, generateOwnerKey } from '../oracle/index.ts';
import { kmsScenarios } from './attacks/kms.ts';
import type { AttackOutcome, Scenario } from './attacks/types.ts';

/** The code a failure carries: a PropsError's code, or a contract's custom error name for chain reverts. */
function codeOf(e: unknown): string {
  const pe = findPropsError(e);
  if (!pe) return 'UNCODED';
  return pe.code === 'ERR_CHAIN_REVERTED' && pe.detail ? pe.detail : pe.code;
}

async function rejection(fn: () => Promise<unknown>): Promise<string | null> {
  try {
    await fn();
    return null;
  } catch (e) {
    return codeOf(e);
  }
}

export async function runAttacks(o: {
  log: (line: string) => void;
  threshold?: number;
}): Promise<{ ok: boolean; attacks: AttackOutcome[] }> {
  const w: World = await createWorld({ lenders: 2, log: o.log });
  let closeSide: (() => Promise<void>) | undefined;
  try {
    const threshold = o.threshold ?? 600;
    const { enclave, relayer, lenders, gov } = w;
    const [lender, otherLender] = [lenders[0]!, lenders[1]!];
    const { keyId } = await w.registerEnclave(enclave);
    const [borrower] = generateBorrowers('attacks', 1);
    const statement = borrower!.statement;
    const consentRef = random32();
    const pub = enclave.evidence.keys.chain.publicKey as Hex;

    const verifyAs = (
      att: unknown,
      expected: { requestId: string; nonce: string },
      policy: Policy = w.lenderPolicy,
      seen?: Set<string>,
    ) =>
      verifyResult(att, {
        evidence: enclave.evidence,
        evidenceDigest: enclave.evidenceDigest,
        manifest: enclave.manifest,
        policy,
        now: new Date(),
        expected,
        ...(seen ? { nonceStore: { has: (n: string) => seen.has(n), add: (n: string) => void seen.add(n) } } : {}),
      });
    const firstFailure = (r: { checks: { ok: boolean; code?: string }[] }) => r.checks.find((c) => !c.ok)?.code ?? null;

    /** A fresh job and an honest result for it. */
    const honest = async () => {
      const job = await w.openJob(lender, commitInputs(statement));
      const { attestation } = await w.score(enclave, statement, job, threshold, consentRef);
      const body = JSON.parse(new TextDecoder().decode(base64url.decode(attestation.jws.split('.')[1]!))) as ResultBody;
      return { job, attestation, body, expected: { requestId: jobIdHex(job.jobId), nonce: job.nonce } };
    };
    /** A release attempt that must revert and leave the job open and every balance as it was. */
    const mustNotPay = async (jobId: bigint, attempt: () => Promise<unknown>) => {
      const job = await gov.getJob(jobId);
      const before = [
        await gov.balanceOf(job.dataOwner),
        await gov.balanceOf(w.operator),
        await gov.balanceOf(w.dep.escrow),
      ];
      const code = await rejection(attempt);
      const after = [
        await gov.balanceOf(job.dataOwner),
        await gov.balanceOf(w.operator),
        await gov.balanceOf(w.dep.escrow),
      ];
      const traceFree = before.every((b, i) => b === after[i]) && (await gov.getJob(jobId)).status === 'open';
      return { code, traceFree };
    };
    /** The enclave's own on-chain key signing a result under another EIP-712 domain. */
    const signUnderDomain = (body: ResultBody, domain: ResultAttestation['eip712']['domain']) =>
      enclave.keys.chainSigner.signDigest(
        fromHex(
          hashTypedData({
            domain: toTypedDataDomain(domain),
            types: RESULT_TYPES,
            primaryType: 'PropsResult',
            message: resultMessage(body),
          }),
          32,
        ),
      );

    // Provenance: two banks that sign their statements, each pinned by the enclave's provenance policy for its own host.
    const bankKey = await makeKey('bank-2026');
    const otherBankKey = await makeKey('other-bank-2026');
    const provPolicy = basePolicy({
      signedSource: {
        hosts: ['bank.props.test', 'other-bank.props.test'],
        algorithms: ['ES256'],
        jwks: { keys: [bankKey.jwk, otherBankKey.jwk] },
        kids: [
          { kid: bankKey.jwk.kid, issuers: ['bank.props.test'] },
          { kid: otherBankKey.jwk.kid, issuers: ['other-bank.props.test'] },
        ],
      },
    });
    const nowS = Math.floor(Date.now() / 1000);
    const proofOf = (jws: string) => ({ version: 1, kind: 'signed-source', jws });
    const genuine = await makeSignedSource(bankKey, {
      iss: 'bank.props.test',
      sub: 'acc_1',
      iat: nowS - 60,
      exp: nowS + 600,
    });
    const provenanceCode = async (proof: unknown) =>
      rejection(() => verifyProvenance(proof, { policy: provPolicy, now: new Date() }));

    // The data-owner side: one genuine submission and consent through the portal, oracle client and ingest.
    const side = await startBorrowerSide({ enclave, statements: [statement], ownerPolicy: w.lenderPolicy });
    closeSide = side.close;
    const lenderId = lender.account!.toLowerCase();
    const sub = await side.submitAndConsent(0, 'signed-source', lenderId);
    const ingestCode = async (jwe: unknown) => {
      const before = side.submissionsSeen();
      const code = await rejection(() => side.ingest(jwe));
      return { code, traceFree: side.submissionsSeen() === before };
    };

    const scenarios: Scenario[] = [
      {
        name: 'replayed submission (same JWE sent twice)',
        layer: 'oracle',
        expected: 'ERR_SUBMISSION_REPLAYED',
        run: async () => ingestCode(side.lastSubmission()),
      },
      {
        name: 'misaddressed submission (encrypted to another enclave)',
        layer: 'oracle',
        expected: 'ERR_SUBMISSION_MISADDRESSED',
        run: async () => {
          const other = await w.bootSim();
          const checked = await checkEnclave({
            evidence: other.evidence,
            manifest: other.manifest,
            policy: w.lenderPolicy,
            now: new Date(),
            verifyEvidence: (e, opts) => verifyEvidence(e, opts),
          });
          const owner = (await generateOwnerKey()).key;
          const { jwe } = await encryptSubmission(
            { proofs: sub.accepted!.submission.proofs, owner: owner.publicJwk },
            checked,
            { now: () => new Date() },
          );
          return ingestCode(jwe);
        },
      },
      {
        name: 'malformed submission payload',
        layer: 'oracle',
        expected: 'ERR_SUBMISSION_MALFORMED',
        run: async () => ingestCode('not.a.jwe.at.all'),
      },
      {
        name: 'oversized submission payload (16 MiB)',
        layer: 'oracle',
        expected: 'ERR_SUBMISSION_TOO_LARGE',
        run: async () => ingestCode('a'.repeat(16 * 1024 * 1024)),
      },
      {
        name: 'consent missing',
        layer: 'oracle',
        expected: 'ERR_CONSENT_MISSING',
        run: async () => ({ code: await rejection(() => side.checkConsent({ ...sub, consentJws: '' }, lenderId)) }),
      },
      {
        name: 'consent for another lender',
        layer: 'oracle',
        expected: 'ERR_CONSENT_WRONG_LENDER',
        run: async () => ({ code: await rejection(() => side.checkConsent(sub, otherLender.account!.toLowerCase())) }),
      },
      {
        name: 'consent expired',
        layer: 'oracle',
        expected: 'ERR_CONSENT_EXPIRED',
        run: async () => ({
          code: await rejection(() => side.checkConsent(sub, lenderId, new Date(Date.now() + 2 * 3600_000))),
        }),
      },
      {
        name: 'consent reused past its maximum uses',
        layer: 'oracle',
        expected: 'ERR_CONSENT_EXHAUSTED',
        run: async () => {
          await side.checkConsent(sub, lenderId);
          return { code: await rejection(() => side.checkConsent(sub, lenderId)) };
        },
      },
      {
        name: 'tampered statement (balance edited after the bank signed it)',
        layer: 'provenance',
        expected: 'ERR_PROVENANCE_SIGNATURE_INVALID',
        run: async () => {
          const [h, p, s] = genuine.split('.') as [string, string, string];
          const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as {
            statement: { openingBalance: number };
          };
          payload.statement.openingBalance += 1_000_000;
          return { code: await provenanceCode(proofOf(`${h}.${base64url.encode(JSON.stringify(payload))}.${s}`)) };
        },
      },
      {
        name: 'forged source signature (untrusted signer claiming the bank kid)',
        layer: 'provenance',
        expected: 'ERR_PROVENANCE_SIGNATURE_INVALID',
        run: async () => {
          const forger = await makeKey('bank-2026');
          return {
            code: await provenanceCode(
              proofOf(await makeSignedSource(forger, { iss: 'bank.props.test', iat: nowS - 60, exp: nowS + 600 })),
            ),
          };
        },
      },
      {
        name: 'untrusted signer (unpinned key id)',
        layer: 'provenance',
        expected: 'ERR_PROVENANCE_SIGNER_UNTRUSTED',
        run: async () => {
          const rogue = await makeKey('rogue-1');
          return {
            code: await provenanceCode(
              proofOf(await makeSignedSource(rogue, { iss: 'bank.props.test', iat: nowS - 60, exp: nowS + 600 })),
            ),
          };
        },
      },
      {
        name: 'source impersonation (another pinned bank signing as this bank)',
        layer: 'provenance',
        expected: 'ERR_PROVENANCE_ISSUER_MISMATCH',
        run: async () => ({
          code: await provenanceCode(
            proofOf(await makeSignedSource(otherBankKey, { iss: 'bank.props.test', iat: nowS - 60, exp: nowS + 600 })),
          ),
        }),
      },
      {
        name: 'host mismatch (statement issued by another host)',
        layer: 'provenance',
        expected: 'ERR_PROVENANCE_HOST_NOT_ALLOWED',
        run: async () => ({
          code: await provenanceCode(
            proofOf(await makeSignedSource(bankKey, { iss: 'evil.props.test', iat: nowS - 60, exp: nowS + 600 })),
          ),
        }),
      },
      {
        name: 'stale proof (statement signed two hours ago)',
        layer: 'provenance',
        expected: 'ERR_PROVENANCE_STALE',
        run: async () => ({
          code: await provenanceCode(
            proofOf(await makeSignedSource(bankKey, { iss: 'bank.props.test', iat: nowS - 7200, exp: nowS + 600 })),
          ),
        }),
      },
      {
        name: 'source JWS alg "none"',
        layer: 'provenance',
        expected: 'ERR_PROVENANCE_ALG_NOT_ALLOWED',
        run: async () => {
          const [, p] = genuine.split('.');
          const h = base64url.encode(JSON.stringify({ alg: 'none', typ: SIGNED_SOURCE_JWS_TYP, kid: bankKey.jwk.kid }));
          return { code: await provenanceCode(proofOf(`${h}.${p}.AAAA`)) };
        },
      },
      {
        name: 'model swapped (tampered ONNX file at boot)',
        layer: 'enclave',
        expected: 'ERR_MODEL_HASH_MISMATCH',
        run: async () => {
          const p = join(mkdtempSync(join(tmpdir(), 'props-attack-')), 'credit.onnx');
          copyFileSync(DEFAULT_MODEL_PATH, p);
          appendFileSync(p, utf8('backdoor'));
          return {
            code: await rejection(() =>
              loadModel({ path: p, expectedHash: w.pipelinePolicy.modelHash, executionProvider: 'cpu' }),
            ),
          };
        },
      },
      {
        name: 'code swapped (manifest names other code than measured)',
        layer: 'verifier',
        expected: 'ERR_MANIFEST_MISMATCH',
        run: async () => {
          const r = await verifyEvidence(enclave.evidence, {
            policy: w.lenderPolicy,
            now: new Date(),
            manifest: { ...enclave.manifest, codeHash: random32() },
          });
          return { code: firstFailure(r) };
        },
      },
      {
        name: 'code swapped (consistent enclave running unpinned code)',
        layer: 'verifier',
        expected: 'ERR_MANIFEST_CODE_HASH_NOT_ALLOWED',
        run: async () => {
          const policy = structuredClone(w.lenderPolicy);
          policy.manifest.codeHashes = [random32()];
          return {
            code: firstFailure(
              await verifyEvidence(enclave.evidence, { policy, now: new Date(), manifest: enclave.manifest }),
            ),
          };
        },
      },
      {
        name: 'debug evidence',
        layer: 'verifier',
        expected: 'ERR_EVIDENCE_DEBUG',
        run: async () => {
          const dbg = await w.bootSim({ debug: true });
          return {
            code: firstFailure(
              await verifyEvidence(dbg.evidence, { policy: w.lenderPolicy, now: new Date(), manifest: dbg.manifest }),
            ),
          };
        },
      },
      {
        name: 'simulated evidence under a production policy',
        layer: 'verifier',
        expected: 'ERR_EVIDENCE_SIMULATED_NOT_ALLOWED',
        run: async () => ({
          code: firstFailure(
            await verifyEvidence(enclave.evidence, {
              policy: loadDefaultPolicy(),
              now: new Date(),
              manifest: enclave.manifest,
            }),
          ),
        }),
      },
      {
        name: 'tampered result (score raised after signing)',
        layer: 'verifier',
        expected: 'ERR_RESULT_SIGNATURE_INVALID',
        run: async () => {
          const h = await honest();
          const [hd, , s] = h.attestation.jws.split('.');
          const forged = base64url.encode(
            JSON.stringify({ ...h.body, output: { ...h.body.output, score: 999, decision: 'approve' } }),
          );
          return { code: firstFailure(await verifyAs({ ...h.attestation, jws: `${hd}.${forged}.${s}` }, h.expected)) };
        },
      },
      {
        name: 'replayed score nonce (same result presented twice)',
        layer: 'verifier',
        expected: 'ERR_RESULT_NONCE_REPLAYED',
        run: async () => {
          const h = await honest();
          const seen = new Set<string>();
          const first = await verifyAs(h.attestation, h.expected, w.lenderPolicy, seen);
          if (!first.ok) return { code: 'FIRST_USE_REFUSED' };
          return {
            code: firstFailure(await verifyAs(h.attestation, h.expected, w.lenderPolicy, seen)),
            traceFree: seen.size === 1,
          };
        },
      },
      {
        name: 'JWS alg "none" on a result',
        layer: 'verifier',
        expected: 'ERR_RESULT_ALG_NOT_ALLOWED',
        run: async () => {
          const h = await honest();
          const hd = base64url.encode(
            JSON.stringify({ alg: 'none', kid: enclave.evidence.keys.jws.kid, typ: 'props-result+jws' }),
          );
          return {
            code: firstFailure(
              await verifyAs({ ...h.attestation, jws: `${hd}.${h.attestation.jws.split('.')[1]}.` }, h.expected),
            ),
          };
        },
      },
      {
        name: 'algorithm confusion (HS256 keyed with the public JWK)',
        layer: 'verifier',
        expected: 'ERR_RESULT_ALG_NOT_ALLOWED',
        run: async () => {
          const h = await honest();
          const hd = base64url.encode(
            JSON.stringify({ alg: 'HS256', kid: enclave.evidence.keys.jws.kid, typ: 'props-result+jws' }),
          );
          const p = h.attestation.jws.split('.')[1];
          const mac = createHmac('sha256', JSON.stringify(enclave.evidence.keys.jws))
            .update(`${hd}.${p}`)
            .digest('base64url');
          return { code: firstFailure(await verifyAs({ ...h.attestation, jws: `${hd}.${p}.${mac}` }, h.expected)) };
        },
      },
      {
        name: 'unregistered key (result signed by an enclave no auditor approved)',
        layer: 'chain',
        expected: 'RegistryKeyUnknown',
        run: async () => {
          const rogue = await w.bootSim();
          const job = await w.openJob(lender, commitInputs(statement));
          const { attestation } = await w.score(rogue, statement, job, threshold, consentRef);
          const body = JSON.parse(
            new TextDecoder().decode(base64url.decode(attestation.jws.split('.')[1]!)),
          ) as ResultBody;
          return mustNotPay(job.jobId, () =>
            relayer.release(
              job.jobId,
              resultMessage(body),
              rogue.evidence.keys.chain.publicKey as Hex,
              attestation.eip712.signature as Hex,
            ),
          );
        },
      },
      {
        name: 'revoked key',
        layer: 'chain',
        expected: 'RegistryKeyRevoked',
        run: async () => {
          const second = await w.bootSim();
          const reg = await w.registerEnclave(second);
          await gov.revokeKey(reg.keyId);
          const job = await w.openJob(lender, commitInputs(statement));
          const { attestation } = await w.score(second, statement, job, threshold, consentRef);
          const body = JSON.parse(
            new TextDecoder().decode(base64url.decode(attestation.jws.split('.')[1]!)),
          ) as ResultBody;
          return mustNotPay(job.jobId, () =>
            relayer.release(
              job.jobId,
              resultMessage(body),
              second.evidence.keys.chain.publicKey as Hex,
              attestation.eip712.signature as Hex,
            ),
          );
        },
      },
      {
        name: 'wrong EIP-712 domain (signature made for another chain)',
        layer: 'chain',
        expected: 'EscrowSignatureInvalid',
        run: async () => {
          const h = await honest();
          const sig = await signUnderDomain(h.body, { ...h.attestation.eip712.domain, chainId: 1 });
          return mustNotPay(h.job.jobId, () => relayer.release(h.job.jobId, resultMessage(h.body), pub, sig));
        },
      },
      {
        name: 'result for another job (valid result replayed against a second job)',
        layer: 'chain',
        expected: 'EscrowWrongJob',
        run: async () => {
          const h = await honest();
          const other = await w.openJob(lender, commitInputs(statement));
          return mustNotPay(other.jobId, () =>
            relayer.release(other.jobId, resultMessage(h.body), pub, h.attestation.eip712.signature as Hex),
          );
        },
      },
      {
        name: "result for another borrower's inputs (another lender's result naming this job's id and nonce)",
        layer: 'chain',
        expected: 'EscrowTermsMismatch',
        run: async () => {
          // Lender A's job pays for its borrower's inputs; lender B gets a result for its own borrower under A's job id
          // and (say, leaked) nonce and tries to release A's escrow with it.
          const job = await w.openJob(lender, commitInputs(statement));
          const [otherBorrower] = generateBorrowers('attacks-other', 1);
          const { attestation } = await w.score(enclave, otherBorrower!.statement, job, threshold, random32());
          const body = JSON.parse(
            new TextDecoder().decode(base64url.decode(attestation.jws.split('.')[1]!)),
          ) as ResultBody;
          return mustNotPay(job.jobId, () =>
            relayer.release(job.jobId, resultMessage(body), pub, attestation.eip712.signature as Hex),
          );
        },
      },
      {
        name: "another lender's result for the same borrower naming this job (its public id and the nonce hash in JobOpened)",
        layer: 'chain',
        expected: 'EscrowTermsMismatch',
        run: async () => {
          // Lender B also holds the borrower's consent for these inputs, sees A's JobOpened and has its own scoring name
          // A's job: all it can put for the nonce is the hash A published, since A gave the nonce to the enclave alone.
          const job = await w.openJob(lender, commitInputs(statement));
          const { attestation } = await w.score(
            enclave,
            statement,
            { jobId: job.jobId, nonce: keccak256(job.nonce) },
            threshold,
            random32(),
          );
          const body = JSON.parse(
            new TextDecoder().decode(base64url.decode(attestation.jws.split('.')[1]!)),
          ) as ResultBody;
          return mustNotPay(job.jobId, () =>
            relayer.release(job.jobId, resultMessage(body), pub, attestation.eip712.signature as Hex),
          );
        },
      },
      {
        name: 'double release',
        layer: 'chain',
        expected: 'EscrowJobNotOpen',
        run: async () => {
          const h = await honest();
          await relayer.release(h.job.jobId, resultMessage(h.body), pub, h.attestation.eip712.signature as Hex);
          const before = await gov.balanceOf(w.dep.escrow);
          const code = await rejection(() =>
            relayer.release(h.job.jobId, resultMessage(h.body), pub, h.attestation.eip712.signature as Hex),
          );
          return { code, traceFree: (await gov.balanceOf(w.dep.escrow)) === before };
        },
      },
      {
        name: 'release against a checkpoint the registry never accepted',
        layer: 'chain',
        expected: 'EscrowCheckpointUnknown',
        run: async () => {
          const h = await honest();
          return mustNotPay(h.job.jobId, () =>
            relayer.releaseWithProof(h.job.jobId, resultMessage(h.body), {
              keyId,
              treeSize: 1n,
              root: random32(),
              leafIndex: 0n,
              path: [],
            }),
          );
        },
      },
      {
        name: 'auditor quorum not met (2 of 5 approvals)',
        layer: 'registry',
        expected: 'RegistryQuorumNotMet',
        run: async () => {
          const e = await w.bootSim();
          const code = await rejection(() => w.registerEnclave(e, { signers: 2 }));
          return { code, traceFree: !(await gov.checkKey(keyIdOf(e), w.pid)).valid };
        },
      },
      {
        name: 'simulated pipeline on a production registry',
        layer: 'registry',
        expected: 'RegistrySimulationNotAllowed',
        run: async () => {
          const key = w.chain.privateKeys[0]!;
          const prod = await deploy({ rpcUrl: w.chain.rpcUrl, privateKey: key, simulationAllowed: false });
          const c = await createPropsChainClient({
            rpcUrl: w.chain.rpcUrl,
            privateKey: key,
            addresses: { token: prod.token, registry: prod.registry, escrow: prod.escrow },
          });
          const m = enclave.manifest;
          return {
            code: await rejection(() =>
              c.registerPipeline({
                codeHash: m.codeHash as Hex,
                modelHash: m.modelHash as Hex,
                policyHash: m.policyHash as Hex,
                platform: 'sim',
              }),
            ),
          };
        },
      },
      {
        name: 'log rolled back (checkpoint smaller than the one on chain)',
        layer: 'registry',
        expected: 'RegistryCheckpointNotGrowing',
        run: async () => {
          const post = async (size: bigint, root: Hex) =>
            relayer.postCheckpoint(
              pub,
              size,
              root,
              await enclave.keys.chainSigner.signDigest(
                fromHex(checkpointDigest(gov.registryDomain(), { keyId, treeSize: size, root }), 32),
              ),
            );
          await post(10n, random32());
          const head = await gov.getHead(keyId);
          const code = await rejection(() => post(5n, random32()));
          return { code, traceFree: (await gov.getHead(keyId)).treeSize === head.treeSize };
        },
      },
      {
        name: 'expired registration',
        layer: 'chain',
        expected: 'RegistryKeyExpired',
        run: async () => {
          const shortLived = await w.bootSim();
          await w.registerEnclave(shortLived, { ttlSeconds: 120n });
          const job = await w.openJob(otherLender, commitInputs(statement), 86_400n);
          const { attestation } = await w.score(shortLived, statement, job, threshold, consentRef);
          const body = JSON.parse(
            new TextDecoder().decode(base64url.decode(attestation.jws.split('.')[1]!)),
          ) as ResultBody;
          await w.advanceTime(300);
          return mustNotPay(job.jobId, () =>
            relayer.release(
              job.jobId,
              resultMessage(body),
              shortLived.evidence.keys.chain.publicKey as Hex,
              attestation.eip712.signature as Hex,
            ),
          );
        },
      },
      {
        name: 'release after deadline',
        layer: 'chain',
        expected: 'EscrowDeadlinePassed',
        run: async () => {
          const job = await w.openJob(lender, commitInputs(statement), 60n);
          const { attestation } = await w.score(enclave, statement, job, threshold, consentRef);
          const body = JSON.parse(
            new TextDecoder().decode(base64url.decode(attestation.jws.split('.')[1]!)),
          ) as ResultBody;
          await w.advanceTime(120);
          return mustNotPay(job.jobId, () =>
            relayer.release(job.jobId, resultMessage(body), pub, attestation.eip712.signature as Hex),
          );
        },
      },
      ...serviceScenarios(),
      ...kmsScenarios(w),
    ];

    // ---------------------------------------------------------------- the scoring service (HTTP, SQLite)
    function serviceScenarios(): Scenario[] {
      const dir = mkdtempSync(join(tmpdir(), 'props-attack-svc-'));
      const start = (db: string, extra: Partial<Parameters<typeof startScoringService>[0]> = {}) =>
        startScoringService({
          enclave,
          model: w.model,
          provenancePolicy: side.provenancePolicy,
          dbPath: join(dir, db),
          ...extra,
        });
      return [
        {
          name: 'query cap exceeded through many lender accounts',
          layer: 'service',
          expected: 'ERR_BORROWER_QUERY_CAP',
          run: async () => {
            const svc = await start('cap.db', { limits: { borrowerCap: 3 } });
            try {
              side.useService(svc.url);
              // One borrower, probed by four "independent" lenders: the nullifier counts the borrower, not the lender.
              let last: { status: number; json: Record<string, unknown> } | undefined;
              for (let k = 0; k < 4; k++) {
                const acct = await svc.createLender(`prober ${k}`);
                const s = await side.submitAndConsent(0, 'signed-source', acct.lenderId);
                last = await svc.post(
                  '/v1/jobs',
                  { consentId: s.consentId, nonce: random32() },
                  { authorization: `Bearer ${acct.apiKey}`, 'idempotency-key': `probe-${k}-${Date.now()}` },
                );
                if (k < 3 && last.status !== 201) return { code: `EARLY_${String(last.json.code)}` };
              }
              return { code: (last?.json.code as string) ?? null, traceFree: (await svc.logSize()) === 3 };
            } finally {
              await svc.close();
            }
          },
        },
        {
          name: 'oversized request payload (1 MiB submission)',
          layer: 'service',
          expected: 'ERR_INPUT_TOO_LARGE',
          run: async () => {
            const svc = await start('big.db');
            try {
              const r = await svc.post('/v1/submissions', { jwe: 'a'.repeat(1024 * 1024) });
              return { code: (r.json.code as string) ?? null, traceFree: (await svc.logSize()) === 0 };
            } finally {
              await svc.close();
            }
          },
        },
        {
          name: 'malformed request payload (unknown field in a scoring job)',
          layer: 'service',
          expected: 'ERR_INPUT_MALFORMED',
          run: async () => {
            const svc = await start('malformed.db');
            try {
              const acct = await svc.createLender('malformed');
              const r = await svc.post(
                '/v1/jobs',
                { consentId: random32(), nonce: random32(), admin: true },
                { authorization: `Bearer ${acct.apiKey}`, 'idempotency-key': 'malformed-0001' },
              );
              return { code: (r.json.code as string) ?? null, traceFree: (await svc.logSize()) === 0 };
            } finally {
              await svc.close();
            }
          },
        },
        {
          name: 'enclave state rolled back by the host (database older than the on-chain checkpoint)',
          layer: 'service',
          expected: 'ERR_STATE_ROLLED_BACK',
          run: async () => {
            const db = join(dir, 'state.db');
            const rollbackKey = await w.bootSim();
            const { keyId: rk } = await w.registerEnclave(rollbackKey);
            const anchor = async () => {
              const h = await gov.getHead(rk);
              return { treeSize: Number(h.treeSize), root: h.root as Hex };
            };
            const svcFor = () =>
              startScoringService({
                enclave: rollbackKey,
                model: w.model,
                provenancePolicy: side.provenancePolicy,
                dbPath: db,
                anchor,
              });
            const scoreOnce = async (svc: RunningService, tag: string) => {
              side.retarget(rollbackKey);
              side.useService(svc.url);
              const acct = await svc.createLender(tag);
              const s = await side.submitAndConsent(0, 'signed-source', acct.lenderId);
              await svc.post(
                '/v1/jobs',
                { consentId: s.consentId, nonce: random32() },
                { authorization: `Bearer ${acct.apiKey}`, 'idempotency-key': `${tag}-0001` },
              );
            };
            let svc = await svcFor();
            await scoreOnce(svc, 'before');
            await svc.close();
            const snapshot = [db, `${db}-wal`].map((f) => (existsSync(f) ? readFileSync(f) : undefined));
            svc = await svcFor();
            await scoreOnce(svc, 'after');
            const size = await svc.logSize();
            const root = ((await (await fetch(`${svc.url}/v1/log/head`)).json()) as { rootHash: Hex }).rootHash;
            await svc.close();
            // The enclave key anchors its head on chain …
            const sig = await rollbackKey.keys.chainSigner.signDigest(
              fromHex(checkpointDigest(gov.registryDomain(), { keyId: rk, treeSize: BigInt(size), root }), 32),
            );
            await relayer.postCheckpoint(rollbackKey.evidence.keys.chain.publicKey as Hex, BigInt(size), root, sig);
            // … then the host restores yesterday's database and restarts the enclave.
            [db, `${db}-wal`].forEach((f, k) =>
              snapshot[k] ? writeFileSync(f, snapshot[k]!) : rmSync(f, { force: true }),
            );
            rmSync(`${db}-shm`, { force: true });
            side.retarget(enclave);
            return { code: await rejection(() => svcFor()) };
          },
        },
      ];
    }

    const outcomes: AttackOutcome[] = [];
    for (const s of scenarios) {
      let code: string | null;
      let traceFree = true;
      try {
        const r = await s.run();
        code = r.code;
        traceFree = r.traceFree ?? true;
      } catch (e) {
        code = `SCENARIO_ERROR:${codeOf(e)}`;
      }
      const rejected = code !== null;
      const ok = rejected && code === s.expected && traceFree;
      outcomes.push({ name: s.name, layer: s.layer, expected: s.expected, rejected, code, traceFree, ok });
      o.log(
        `${ok ? '✓' : '✗'} ${s.layer.padEnd(10)} ${s.name.padEnd(70)} ${code ?? 'ACCEPTED'}${traceFree ? '' : '  (LEFT A TRACE)'}`,
      );
    }
    return { ok: outcomes.every((x) => x.ok), attacks: outcomes };
  } finally {
    await closeSide?.();
    await w.close();
  }
}

const keyIdOf = (e: { evidence: { keys: { chain: { publicKey: string } } } }): Hex =>
  chainKeyId(e.evidence.keys.chain.publicKey as Hex);
