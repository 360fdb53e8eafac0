import { testService, makeSubmission, newOwner, signConsent } from '../test/service-helpers.ts';
const s = await testService({ limits: { borrowerCap: 1e9 }, clock: () => new Date(), random: (n) => crypto.getRandomValues(new Uint8Array(n)) });
const owner = await newOwner();
const l = await s.newLender('p', 1e6);
const jwe = await makeSubmission(s.enclave, owner);
const sub = (await s.call('POST', '/v1/submissions', { jwe })).json;
const consent = await signConsent(owner, { submissionId: sub.submissionId, lender: l.lenderId, maxUses: 1e6, expiresAt: Math.floor(Date.now()/1000)+3600 });
const cid = (await s.call('POST', '/v1/consents', { consent })).json.consentId;
const auth = { authorization: `Bearer ${l.apiKey}` };
let i = 0;
const one = () => s.call('POST', '/v1/jobs', { consentId: cid, nonce: `0x${(++i).toString(16).padStart(64, '0')}` }, { ...auth, 'idempotency-key': `k-${i}-xxxxxx` });
for (const n of [200, 1000]) {
  const t = performance.now();
  await Promise.all(Array.from({ length: n }, one));
  console.log('concurrent', n, ((performance.now() - t) / n).toFixed(3), 'ms/op');
}
const t = performance.now();
for (let k = 0; k < 200; k++) await one();
console.log('sequential', ((performance.now() - t) / 200).toFixed(3), 'ms/op');
