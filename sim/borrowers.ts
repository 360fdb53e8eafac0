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
import { createAttestedFetcher, fetchDelegated, type AttestedFetcher } from '../enclave/fetcher.ts';
import { decryptSubmission, signReceipt, type AcceptedSubmission } from '../enclave/ingest.ts';
import { nodeEs256Signer, type JwsSigner } from '../enclave/jws-signer.ts';
import {
  checkEnclave,
  delegateFetch,
  fetchSignedStatement,
  generateOwnerKey,
  grantConsent,
  sendToEnclave,
  type FetchLike,
} from '../oracle/index.ts';
import { portalProvenancePolicy, startBankPortal, type BankPortal, type PortalAccount } from './bank/portal.ts';

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

export type BorrowerSideParameters = {
  enclave: Enclave;
  statements: readonly Statement[];
  ownerPolicy: Policy;
  now?: () => Date;
};

export type BorrowerSide = Awaited<ReturnType<typeof startBorrowerSide>>;

export async function startBorrowerSide(o: BorrowerSideParameters) {
  let serviceUrl: string | undefined;
  const now = o.now ?? (() => new Date());
  const { portal, accounts } = await startPortalFor(o.statements, now);
  const target = targetOf(o.enclave);
  // The fetcher and the provenance verifier stay bound to the first enclave's signing key.
  const fetcher = createAttestedFetcher(
    {
      allowedHosts: [portal.host],
      extraCaPems: [portal.caPem],
      useSystemRoots: false,
      maxBodyBytes: 1 << 20,
      timeoutMs: 5000,
    },
    { now, signer: target.signer, route: portal.route },
  );
  const provenancePolicy = parseProvenancePolicy(
    portalProvenancePolicy(portal, { id: 'props-sim-provenance@1', attestedFetch: true }),
  );
  const verifyProvenance = provenanceVerifier(provenancePolicy, [target.enclave.evidence.keys.jws]);
  const inProcess = createInProcessEnclave(target, now, verifyProvenance);
  const ctx: BorrowerContext = {
    ownerPolicy: o.ownerPolicy,
    now,
    portal,
    accounts,
    target,
    fetcher,
    seenDelegations: new Set<string>(),
    inProcess,
    serviceUrl: () => serviceUrl,
  };
  return {
    portal,
    submitAndConsent: (index: number, mode: Mode, lender: string): Promise<Ingested> =>
      submitAndConsent(ctx, index, mode, lender),
    checkConsent: createConsentChecker(now),
    ingest: inProcess.ingest,
    provenancePolicy,
    /** Borrowers address another enclave from now on (the attack catalogue restarts enclaves). */
    retarget(e: Enclave) {
      Object.assign(target, targetOf(e));
    },
    /** From now on, submissions and consents go to the scoring service at `url` (HTTP, loopback). */
    useService: (url: string) => void (serviceUrl = url),
    /** The last accepted submission's JWE, for replay scenarios. */
    lastSubmission: () => inProcess.lastJwe(),
    submissionsSeen: () => inProcess.submissionsSeen(),
    close: () => portal.close(),
  };
}

/** The bank portal serving every borrower's statement, one bearer token per account. */
async function startPortalFor(
  statements: readonly Statement[],
  now: () => Date,
): Promise<{ portal: BankPortal; accounts: PortalAccount[] }> {
  const accounts = statements.map((s, i) => ({
    accountId: s.accountId,
    token: `tok_${i}_${Math.random().toString(36).slice(2, 12)}`,
  }));
  const byId = new Map(statements.map((s) => [s.accountId, s]));
  const portal: BankPortal = await startBankPortal({ statementFor: (id) => byId.get(id), accounts, now });
  return { portal, accounts };
}

/** The enclave the borrowers address: its keys, its receipt signer and how submissions are addressed to it. */
type Target = {
  enclave: Enclave;
  signer: JwsSigner;
  addressing: { expectedKid: string; evidenceDigest: Hex };
};

const targetOf = (e: Enclave): Target => ({
  enclave: e,
  signer: nodeEs256Signer(e.keys.jwsPrivateKey, e.evidence.keys.jws.kid),
  addressing: { expectedKid: e.evidence.keys.encryption.kid, evidenceDigest: e.evidenceDigest as Hex },
});

type InProcessEnclave = ReturnType<typeof createInProcessEnclave>;

/** The enclave's submission endpoint (in-process): decrypt, verify every proof, sign a receipt; nothing kept on refusal. */
function createInProcessEnclave(
  target: Target,
  now: () => Date,
  verifyProvenance: ReturnType<typeof provenanceVerifier>,
) {
  const seenSubmissions = new Set<string>();
  let lastAccepted: AcceptedSubmission | undefined;
  let lastJwe: unknown;
  const ingest = (jwe: unknown) =>
    decryptSubmission(jwe, target.enclave.keys.encryptionPrivateKey, {
      ...target.addressing,
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
      text: async () => JSON.stringify({ receipt: (await signReceipt(accepted, target.signer, now)).jws }),
    };
  };
  return {
    ingest,
    endpoint,
    lastAccepted: () => lastAccepted,
    lastJwe: () => lastJwe,
    submissionsSeen: () => seenSubmissions.size,
  };
}

/** What one borrower's flow needs from the side it runs on. */
type BorrowerContext = {
  ownerPolicy: Policy;
  now: () => Date;
  portal: BankPortal;
  accounts: PortalAccount[];
  target: Target;
  fetcher: AttestedFetcher;
  seenDelegations: Set<string>;
  inProcess: InProcessEnclave;
  serviceUrl: () => string | undefined;
};

const verify = (e: unknown, opts: { policy: Policy; now: Date; allowSimulated?: boolean }) => verifyEvidence(e, opts);

const httpFetch: FetchLike = async (u, init) => {
  const r = await fetch(u, { method: init.method, headers: init.headers, body: init.body });
  return { status: r.status, text: () => r.text() };
};

/** One borrower: check the enclave, obtain the proof, submit it encrypted, grant the lender a consent. */
async function submitAndConsent(ctx: BorrowerContext, index: number, mode: Mode, lender: string): Promise<Ingested> {
  const { enclave } = ctx.target;
  const { now } = ctx;
  const account = ctx.accounts[index]!;
  const checked = await checkEnclave({
    evidence: enclave.evidence,
    manifest: enclave.manifest,
    policy: ctx.ownerPolicy,
    now: now(),
    verifyEvidence: verify,
  });
  const proof =
    mode === 'attested-fetch' ? await attestedFetchProof(ctx, account, checked) : await signedSourceProof(ctx, account);
  const owner = (await generateOwnerKey()).key;
  const serviceUrl = ctx.serviceUrl();
  const out = await sendToEnclave(
    {
      evidence: enclave.evidence,
      manifest: enclave.manifest,
      policy: ctx.ownerPolicy,
      now: now(),
      verifyEvidence: verify,
      proofs: [proof],
      owner: owner.publicJwk,
      ...(serviceUrl
        ? { endpoint: `${serviceUrl}/v1/submissions`, fetch: httpFetch }
        : { endpoint: 'in-process', fetch: ctx.inProcess.endpoint }),
    },
    { now },
  );
  const inputCommitment = out.receipt.inputCommitment as Hex;
  const consent = await grantConsent(
    {
      lender,
      purpose: 'credit-scoring',
      expiry: new Date(now().getTime() + 3600_000),
      maxUses: 1,
      inputCommitment,
    },
    owner,
    { now },
  );
  const granted = { inputCommitment, mode, consentJws: consent.jws, consentRef: consentRef(consent.jws) };
  return serviceUrl
    ? { ...granted, consentId: await registerConsent(serviceUrl, consent.jws) }
    : inProcessResult(ctx, granted);
}

/** The enclave fetches the statement itself, with a token the borrower delegates to the enclave it checked. */
async function attestedFetchProof(
  ctx: BorrowerContext,
  account: PortalAccount,
  checked: Awaited<ReturnType<typeof checkEnclave>>,
) {
  const { jwe } = await delegateFetch(
    { url: ctx.portal.statementUrl(account.accountId), token: account.token },
    checked,
    { now: ctx.now },
  );
  const { enclave, addressing } = ctx.target;
  return (
    await fetchDelegated(jwe, enclave.keys.encryptionPrivateKey, ctx.fetcher, {
      ...addressing,
      seenDelegationIds: ctx.seenDelegations,
    })
  ).proof;
}

/** The borrower fetches a statement the bank signed. */
async function signedSourceProof(ctx: BorrowerContext, account: PortalAccount) {
  return (
    await fetchSignedStatement({
      url: ctx.portal.statementUrl(account.accountId),
      token: account.token,
      caPems: [ctx.portal.caPem],
      route: ctx.portal.route,
    })
  ).proof;
}

/** Through the scoring service: the consent is registered there; the records stay inside the enclave. */
async function registerConsent(serviceUrl: string, consentJws: string): Promise<string> {
  const r = await fetch(`${serviceUrl}/v1/consents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ consent: consentJws }),
  });
  const c = (await r.json()) as { consentId?: string; code?: string };
  if (r.status !== 201 || !c.consentId) throw new Error(`consent refused: ${c.code ?? r.status}`);
  return c.consentId;
}

/** In-process, the submission the enclave accepted is kept beside the consent, with the statement it proved. */
function inProcessResult(
  ctx: BorrowerContext,
  granted: Pick<Ingested, 'inputCommitment' | 'mode' | 'consentJws' | 'consentRef'>,
): Ingested {
  const accepted = ctx.inProcess.lastAccepted()!;
  const verdict = accepted.verified[0] as ProvenanceVerdict;
  if (!verdict.statement) throw new Error('proof carried no statement');
  return { statement: verdict.statement, ...granted, accepted };
}

/** The enclave checks the lender's consent against the submission's owner key before scoring. */
function createConsentChecker(now: () => Date) {
  const uses = new Map<string, number>();
  return async function checkConsent(sub: Ingested, lender: string, at: Date = now()): Promise<void> {
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
  };
}
