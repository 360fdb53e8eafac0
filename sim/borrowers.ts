// The borrowers' side of the simulation, through the real parts: the HTTPS bank portal (test CA), the data-owner
// client checking the enclave before sending anything, a mix of provenance modes (source-signed statements and
// attested fetches the enclave makes itself with a delegated token), JWE submissions that the enclave ingests and
// verifies, signed receipts, and consents granted to one lender. The enclave side runs in-process here.
import type { Hex } from 'viem';
import { consentRef, type Statement } from '../protocol/index.ts';
import {
  provenanceVerifier,
  parseProvenancePolicy,
  verifyConsent,
  verifyEvidence,
  type Policy,
  type ProvenanceVerdict,
} from '../verifier/index.ts';
import type { Enclave } from '../enclave/index.ts';
import { createAttestedFetcher, fetchDelegated } from '../enclave/fetcher.ts';
import { decryptSubmission, signReceipt, type AcceptedSubmission } from '../enclave/ingest.ts';
import { nodeEs256Signer } from '../enclave/jws-signer.ts';
import {
  checkEnclave,
  delegateFetch,
  fetchSignedStatement,
  generateOwnerKey,
  grantConsent,
  sendToEnclave,
  type FetchLike,
} from '../oracle/index.ts';
import { portalProvenancePolicy, startBankPortal, type BankPortal } from './bank/portal.ts';

export type Mode = 'signed-source' | 'attested-fetch';
/** What a borrower's submission left: through the service, only ids and commitments (the records stay in the enclave). */
export type Ingested = {
  inputCommitment: Hex;
  mode: Mode;
  consentJws: string;
  consentRef: Hex;
  consentId?: string;
  statement?: Statement;
  accepted?: AcceptedSubmission;
};

export async function startBorrowerSide(o: {
  enclave: Enclave;
  statements: readonly Statement[];
  ownerPolicy: Policy;
  now?: () => Date;
}) {
  let serviceUrl: string | undefined;
  const now = o.now ?? (() => new Date());
  const accounts = o.statements.map((s, i) => ({
    accountId: s.accountId,
    token: `tok_${i}_${Math.random().toString(36).slice(2, 12)}`,
  }));
  const byId = new Map(o.statements.map((s) => [s.accountId, s]));
  const portal: BankPortal = await startBankPortal({ statementFor: (id) => byId.get(id), accounts, now });
  let enclave = o.enclave;
  let signer = nodeEs256Signer(enclave.keys.jwsPrivateKey, enclave.evidence.keys.jws.kid);
  let addressing = { expectedKid: enclave.evidence.keys.encryption.kid, evidenceDigest: enclave.evidenceDigest as Hex };
  const fetcher = createAttestedFetcher(
    {
      allowedHosts: [portal.host],
      extraCaPems: [portal.caPem],
      useSystemRoots: false,
      maxBodyBytes: 1 << 20,
      timeoutMs: 5000,
    },
    { now, signer, route: portal.route },
  );
  const provenancePolicy = parseProvenancePolicy(
    portalProvenancePolicy(portal, { id: 'props-sim-provenance@1', attestedFetch: true }),
  );
  const verifyProvenance = provenanceVerifier(provenancePolicy, [enclave.evidence.keys.jws]);
  const seenSubmissions = new Set<string>();
  const seenDelegations = new Set<string>();
  const verify = (e: unknown, opts: { policy: Policy; now: Date; allowSimulated?: boolean }) => verifyEvidence(e, opts);

  /** The enclave's submission endpoint (in-process): decrypt, verify every proof, sign a receipt; nothing kept on refusal. */
  let lastAccepted: AcceptedSubmission | undefined;
  let lastJwe: unknown;
  const ingest = (jwe: unknown) =>
    decryptSubmission(jwe, enclave.keys.encryptionPrivateKey, {
      ...addressing,
      seenSubmissionIds: seenSubmissions,
      now,
      verifyProvenance,
    });
  const endpoint: FetchLike = async (_url, init) => {
    const jwe = (JSON.parse(init.body) as { jwe: string }).jwe;
    const accepted = await ingest(jwe);
    lastAccepted = accepted;
    lastJwe = jwe;
    return {
      status: 200,
      text: async () => JSON.stringify({ receipt: (await signReceipt(accepted, signer, now)).jws }),
    };
  };

  const httpFetch: FetchLike = async (u, init) => {
    const r = await fetch(u, { method: init.method, headers: init.headers, body: init.body });
    return { status: r.status, text: () => r.text() };
  };

  /** One borrower: check the enclave, obtain the proof, submit it encrypted, grant the lender a consent. */
  async function submitAndConsent(index: number, mode: Mode, lender: string): Promise<Ingested> {
    const account = accounts[index]!;
    const checked = await checkEnclave({
      evidence: enclave.evidence,
      manifest: enclave.manifest,
      policy: o.ownerPolicy,
      now: now(),
      verifyEvidence: verify,
    });
    let proof;
    if (mode === 'attested-fetch') {
      const { jwe } = await delegateFetch(
        { url: portal.statementUrl(account.accountId), token: account.token },
        checked,
        { now },
      );
      proof = (
        await fetchDelegated(jwe, enclave.keys.encryptionPrivateKey, fetcher, {
          ...addressing,
          seenDelegationIds: seenDelegations,
        })
      ).proof;
    } else {
      proof = (
        await fetchSignedStatement({
          url: portal.statementUrl(account.accountId),
          token: account.token,
          caPems: [portal.caPem],
          route: portal.route,
        })
      ).proof;
    }
    const owner = (await generateOwnerKey()).key;
    const out = await sendToEnclave(
      {
        evidence: enclave.evidence,
        manifest: enclave.manifest,
        policy: o.ownerPolicy,
        now: now(),
        verifyEvidence: verify,
        proofs: [proof],
        owner: owner.publicJwk,
        ...(serviceUrl
          ? { endpoint: `${serviceUrl}/v1/submissions`, fetch: httpFetch }
          : { endpoint: 'in-process', fetch: endpoint }),
      },
      { now },
    );
    const consent = await grantConsent(
      {
        lender,
        purpose: 'credit-scoring',
        expiry: new Date(now().getTime() + 3600_000),
        maxUses: 1,
        inputCommitment: out.receipt.inputCommitment as Hex,
      },
      owner,
      { now },
    );
    if (serviceUrl) {
      // Through the scoring service: the consent is registered there; the records stay inside the enclave.
      const r = await fetch(`${serviceUrl}/v1/consents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ consent: consent.jws }),
      });
      const c = (await r.json()) as { consentId?: string; code?: string };
      if (r.status !== 201 || !c.consentId) throw new Error(`consent refused: ${c.code ?? r.status}`);
      return {
        inputCommitment: out.receipt.inputCommitment as Hex,
        mode,
        consentJws: consent.jws,
        consentRef: consentRef(consent.jws),
        consentId: c.consentId,
      };
    }
    const accepted = lastAccepted!;
    const verdict = accepted.verified[0] as ProvenanceVerdict;
    if (!verdict.statement) throw new Error('proof carried no statement');
    return {
      statement: verdict.statement,
      inputCommitment: out.receipt.inputCommitment as Hex,
      mode,
      consentJws: consent.jws,
      consentRef: consentRef(consent.jws),
      accepted,
    };
  }

  /** The enclave checks the lender's consent against the submission's owner key before scoring. */
  const uses = new Map<string, number>();
  async function checkConsent(sub: Ingested, lender: string, at: Date = now()): Promise<void> {
    if (!sub.accepted) throw new Error('consent checks in-process need an in-process submission');
    const c = await verifyConsent(sub.consentJws, {
      ownerJwk: sub.accepted.submission.owner,
      lender,
      purpose: 'credit-scoring',
      inputCommitment: sub.inputCommitment,
      now: at,
      usesSoFar: uses.get(sub.consentRef) ?? 0,
      clockSkewSeconds: 60,
    });
    uses.set(sub.consentRef, (uses.get(sub.consentRef) ?? 0) + 1);
    void c;
  }

  return {
    portal,
    submitAndConsent,
    checkConsent,
    ingest,
    provenancePolicy,
    /** Borrowers address another enclave from now on (the attack catalogue restarts enclaves). */
    retarget(e: Enclave) {
      enclave = e;
      signer = nodeEs256Signer(e.keys.jwsPrivateKey, e.evidence.keys.jws.kid);
      addressing = { expectedKid: e.evidence.keys.encryption.kid, evidenceDigest: e.evidenceDigest as Hex };
    },
    /** From now on, submissions and consents go to the scoring service at `url` (HTTP, loopback). */
    useService: (url: string) => void (serviceUrl = url),
    /** The last accepted submission's JWE, for replay scenarios. */
    lastSubmission: () => lastJwe,
    submissionsSeen: () => seenSubmissions.size,
    close: () => portal.close(),
  };
}
