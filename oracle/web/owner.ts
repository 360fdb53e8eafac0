// Data-owner page (browser entry), served by `props serve`: checks the enclave's attestation with the same verifier
// code the CLI uses BEFORE anything is encrypted, shows what will be shared, encrypts the proof to the attested key,
// submits it, shows the signed receipt, and grants a lender a consent. Records never leave this page in the clear.
import { base64url } from 'jose';
import { inputCommitment, type ProvenanceProof } from '../../protocol/index.ts';
import { loadDefaultPolicy, parsePolicy, verifyEvidence, type Policy } from '../../verifier/index.ts';
import { checkEnclave, type CheckedEnclave } from '../check.ts';
import { grantConsent } from '../consent.ts';
import { encryptSubmission } from '../encrypt.ts';
import { generateOwnerKey, type OwnerKey } from '../keys.ts';
import { verifyReceipt } from '../submit.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const say = (id: string, text: string, cls = '') => {
  const el = $(id);
  el.textContent = text;
  el.className = cls;
};
const now = () => new Date();

let checked: CheckedEnclave | undefined;
let proof: ProvenanceProof | undefined;
let owner: OwnerKey | undefined;
let receipt: { inputCommitment: string } | undefined;

async function getJson(path: string): Promise<unknown> {
  const r = await fetch(path, { headers: { accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json() as Promise<unknown>;
}

async function postJson(path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const out = (await r.json().catch(() => ({}))) as Record<string, unknown>;
  if (!r.ok) throw new Error(String(out.code ?? `HTTP ${r.status}`));
  return out;
}

/** The hash the owner pinned in field `id`, or "any" when the field is empty. */
const pin = (id: string): 'any' | string[] => {
  const v = ($(id) as HTMLInputElement).value.trim().toLowerCase();
  return v === '' ? 'any' : [v];
};

function policy(): { policy: Policy; pinned: boolean } {
  const p = loadDefaultPolicy();
  const codeHashes = pin('code-hash');
  const modelHashes = pin('model-hash');
  // Parsed like any policy file: a pin that is not a 32-byte hex hash is ERR_POLICY_MALFORMED, not silently "any".
  const policy = parsePolicy({
    ...p,
    evidence: { ...p.evidence, allowSimulated: ($('allow-sim') as HTMLInputElement).checked },
    manifest: { ...p.manifest, codeHashes, modelHashes },
  });
  return { policy, pinned: codeHashes !== 'any' && modelHashes !== 'any' };
}

// Each check supersedes the ones before it: a slower, earlier check (say, under a policy the user has since
// changed by unticking "allow simulated") must never enable Submit or overwrite the verdict.
let generation = 0;

async function check(): Promise<void> {
  const mine = ++generation;
  checked = undefined;
  ($('submit') as HTMLButtonElement).disabled = true;
  // The verdict of an earlier check (say, before "allow simulated" was ticked) is not shown as this one's.
  say('enclave-verdict', 'checking the enclave…', 'pending');
  try {
    const ev = await getJson('/v1/attestation/evidence');
    const manifest = (await getJson('/v1/attestation/manifest')) as Record<string, string>;
    const { policy: p, pinned } = policy();
    const report = await verifyEvidence(ev, { policy: p, now: now(), manifest });
    if (mine !== generation) return;
    $('checks').replaceChildren(
      ...report.checks.map((c) => {
        const li = document.createElement('li');
        li.className = c.ok ? 'pass' : 'fail';
        li.textContent = `${c.ok ? '✓' : '✗'} ${c.id}${c.code ? ` ${c.code}` : ''}${c.detail ? ` — ${c.detail}` : ''}`;
        return li;
      }),
    );
    // The list above is for reading; the decision is checkEnclave's, under the same policy (it refuses whatever
    // failed above).
    const result = await checkEnclave({
      evidence: ev,
      manifest,
      policy: p,
      now: now(),
      verifyEvidence: (e, o) => verifyEvidence(e, o),
    });
    if (mine !== generation) return;
    checked = result;
    const which = pinned
      ? 'the code and model you pinned.'
      : `NOT PINNED: any code and model pass; compare code ${manifest.codeHash} and model ${manifest.modelHash} with the ones you agreed to, or pin them above.`;
    say(
      'enclave-verdict',
      report.simulated
        ? `This enclave is SIMULATED (platform "sim"): the code ${manifest.codeHash?.slice(0, 12)}… and model ${manifest.modelHash?.slice(0, 12)}… are bound to its keys, but no hardware protects your records. Send only test data. It runs ${which}`
        : `Genuine ${report.platform} hardware running code ${manifest.codeHash?.slice(0, 12)}… and model ${manifest.modelHash?.slice(0, 12)}…; your records are encrypted to a key only it holds. It runs ${which}`,
      report.simulated || !pinned ? 'warn' : 'ok',
    );
  } catch (e) {
    if (mine !== generation) return;
    say(
      'enclave-verdict',
      `REFUSED — nothing will be encrypted or sent: ${(e as { code?: string }).code ?? (e as Error).message}`,
      'bad',
    );
  }
  ($('submit') as HTMLButtonElement).disabled = !(checked && proof);
}

function describeProof(p: ProvenanceProof): string {
  if (p.kind === 'signed-source' || p.kind === 'attested-fetch') {
    try {
      const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p.jws.split('.')[1] ?? ''))) as Record<
        string,
        unknown
      >;
      const st = payload.statement as
        | { accountId?: string; from?: string; to?: string; transactions?: unknown[] }
        | undefined;
      if (st)
        return `${p.kind}: statement of account ${st.accountId} from ${st.from} to ${st.to}, ${st.transactions?.length ?? 0} transactions, signed by ${String(payload.iss)}`;
      return `${p.kind}: a fetch of ${String(payload.url ?? payload.host ?? 'a source')} recorded by the enclave`;
    } catch {
      return p.kind;
    }
  }
  return p.kind === 'tlsn' ? `TLSNotary presentation (${p.presentation.length / 2} bytes)` : 'Reclaim claim';
}

$('proof').addEventListener('change', async (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (!f) return;
  try {
    const text = (await f.text()).trim();
    // A raw TLSNotary presentation (hex, as tlsn-js and the browser extension export it) or a proof envelope (JSON).
    const v = (
      /^(0x)?([0-9a-fA-F]{2})+$/.test(text)
        ? { version: 1, kind: 'tlsn', presentation: text.replace(/^0x/, '').toLowerCase() }
        : JSON.parse(text)
    ) as ProvenanceProof;
    proof = v;
    say('shared', `Will be shared, encrypted to the enclave only: ${describeProof(v)}`);
  } catch {
    proof = undefined;
    say('shared', 'ERR_PROVENANCE_MALFORMED — not a proof file', 'bad');
  }
  ($('submit') as HTMLButtonElement).disabled = !(checked && proof);
});

$('allow-sim').addEventListener('change', () => void check());
for (const [field, param] of [
  ['code-hash', 'code'],
  ['model-hash', 'model'],
] as const) {
  ($(field) as HTMLInputElement).value = new URLSearchParams(location.search).get(param) ?? '';
  $(field).addEventListener('change', () => void check());
}

$('submit').addEventListener('click', async () => {
  if (!checked || !proof) return;
  try {
    owner = (await generateOwnerKey()).key;
    const sent = await encryptSubmission({ proofs: [proof], owner: owner.publicJwk }, checked, { now });
    const out = await postJson('/v1/submissions', { jwe: sent.jwe });
    // The receipt must be signed by the attested JWS key and commit to exactly what was sent.
    const r = await verifyReceipt(String(out.receipt), {
      jwsKey: checked.jwsKey,
      submissionId: sent.submissionId,
      evidenceDigest: checked.evidenceDigest,
      inputCommitment: inputCommitment([proof]),
    });
    receipt = r;
    say('receipt', `Receipt signed by the enclave: input commitment ${r.inputCommitment}`, 'ok');
    ($('consent') as HTMLButtonElement).disabled = false;
  } catch (e) {
    say('receipt', `Submission refused: ${(e as { code?: string }).code ?? (e as Error).message}`, 'bad');
  }
});

$('consent').addEventListener('click', async () => {
  if (!owner || !receipt) return;
  try {
    const lender = ($('lender') as HTMLInputElement).value.trim();
    const days = Number(($('days') as HTMLInputElement).value);
    const { jws, consent } = await grantConsent(
      {
        lender,
        purpose: 'credit-scoring',
        expiry: new Date(Date.now() + days * 86400_000),
        maxUses: Number(($('uses') as HTMLInputElement).value),
        inputCommitment: receipt.inputCommitment as `0x${string}`,
      },
      owner,
      { now },
    );
    await postJson('/v1/consents', { consent: jws });
    say(
      'consent-result',
      `Consent ${consent.consentId.slice(0, 12)}… granted to ${lender} until ${new Date(consent.exp * 1000).toISOString()}`,
      'ok',
    );
  } catch (e) {
    say('consent-result', `Consent refused: ${(e as { code?: string }).code ?? (e as Error).message}`, 'bad');
  }
});

void check().then(() => (document.body.dataset.ready = 'true'));
