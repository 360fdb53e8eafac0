// The data owner's routes: a submission (JWE to the enclave key) answered by a signed receipt, and a consent for a
// lender to have it scored.
import { createRoute } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { canonicalBytes, PropsError } from '../../../protocol/index.ts';
import type { ApiContext } from '../context.ts';
import { errors, json, ok, router } from '../http.ts';
import { keyedNullifier } from '../nullifier.ts';

const submissionBody = z.strictObject({ jwe: z.string().min(1).max(4_000_000) }).openapi('SubmissionRequest');
const consentBody = z.strictObject({ consent: z.string().min(1).max(8192) }).openapi('ConsentRequest');

export function ownerRoutes({ deps, statementCache, nowS }: ApiContext) {
  const { enclave, store, limits } = deps;
  const r = router();
  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/submissions',
      request: { body: { ...json(submissionBody), required: true } },
      responses: { 201: ok('receipt signed by the enclave'), ...errors },
    }),
    async (c) => {
      const { jwe } = c.req.valid('json');
      const sub = await deps.ingest(jwe);
      const iat = nowS();
      await store.insertSubmission({
        id: sub.submissionId,
        ciphertext: jwe,
        inputCommitment: sub.inputCommitment,
        nullifier: keyedNullifier(deps.nullifierKey, sub.borrowerIdentity),
        ownerKey: JSON.stringify(sub.ownerKey),
        // Opened here, so encrypted to this instance's key.
        decryptionKey: deps.decryptionKey,
        createdAt: iat,
        deletedAt: null,
      });
      statementCache.set(sub.submissionId, sub.statement);
      const receipt =
        sub.receipt ??
        (await enclave.signJws(
          canonicalBytes({
            v: 1,
            typ: 'props-receipt',
            submissionId: sub.submissionId,
            inputCommitment: sub.inputCommitment,
            iat,
          }),
          {
            typ: 'props-receipt+jws',
          },
        ));
      deps.logger({ event: 'submission.received', submission: sub.submissionId });
      return c.json({ submissionId: sub.submissionId, inputCommitment: sub.inputCommitment, receipt }, 201);
    },
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/consents',
      request: { body: { ...json(consentBody), required: true } },
      responses: { 201: ok('consent registered'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const consent = await deps.verifyConsent(
        body.consent,
        async (id) => {
          const s = await store.getSubmission(id);
          return s && s.ciphertext !== null ? JSON.parse(s.ownerKey) : undefined;
        },
        (inputCommitment) => store.liveSubmissionIds(inputCommitment),
      );
      if (!limits.allowedPurposes.includes(consent.purpose)) throw new PropsError('ERR_CONSENT_PURPOSE_NOT_ALLOWED');
      if (consent.expiresAt <= nowS()) throw new PropsError('ERR_CONSENT_EXPIRED');
      await store.insertConsent({
        id: consent.consentId,
        submissionId: consent.submissionId,
        lenderId: consent.lender,
        purpose: consent.purpose,
        expiresAt: consent.expiresAt,
        maxUses: consent.maxUses,
        uses: 0,
        jws: body.consent,
        createdAt: nowS(),
      });
      await store.audit('consent.registered', 'owner', consent.consentId);
      return c.json(
        {
          consentId: consent.consentId,
          lender: consent.lender,
          expiresAt: consent.expiresAt,
          maxUses: consent.maxUses,
        },
        201,
      );
    },
  );
  return r;
}
