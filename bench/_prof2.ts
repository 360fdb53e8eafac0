import autocannon from 'autocannon';
import { makeSubmission, newOwner, signConsent } from '../test/service-helpers.ts';
const base = process.argv[2] as string;
const ADMIN = 'bench-admin-token-000000001';
const post = async (path: string, body: unknown, headers: Record<string, string> = {}) =>
  (await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })).json() as Promise<Record<string, any>>;
const lender = await post('/v1/admin/lenders', { name: 'bench' }, { authorization: `Bearer ${ADMIN}` });
const evidence = (await (await fetch(`${base}/v1/attestation/evidence`)).json()) as { keys: { encryption: unknown } };
const owner = await newOwner();
const jwe = await makeSubmission({ keys: { public: { encryption: evidence.keys.encryption } } } as never, owner);
const sub = await post('/v1/submissions', { jwe });
const consent = await signConsent(owner, { submissionId: sub.submissionId, lender: lender.lenderId, maxUses: 1_000_000, expiresAt: Math.floor(Date.now() / 1000) + 3600 });
const { consentId } = await post('/v1/consents', { consent });
let seq = 0;
const r = await autocannon({ url: `${base}/v1/jobs`, duration: 6, connections: Number(process.argv[3] ?? 8), requests: [{ method: 'POST', setupRequest: (req) => { const i = ++seq; return { ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${lender.apiKey}`, 'idempotency-key': `bench-${String(i).padStart(10, "0")}` }, body: JSON.stringify({ consentId, nonce: `0x${i.toString(16).padStart(64, '0')}` }) }; } }] });
console.log(r.requests.average, r.latency.p50, r.latency.p99, r.non2xx, r.statusCodeStats);
const one = await post('/v1/jobs', { consentId, nonce: `0x${'f'.repeat(64)}` }, { authorization: `Bearer ${lender.apiKey}`, 'idempotency-key': 'x-one-12345' });
console.log(JSON.stringify(one).slice(0, 200));
