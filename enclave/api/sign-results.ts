// Signs a scored group's results inside the enclave: each singly (JWS + EIP-712, with its log leaf's struct hash), or
// the whole group under one batch head (each result with its inclusion proof), as the service is configured.
import type { BatchedResult, Hex, ResultOutput } from '../../protocol/index.ts';
import type { CompletedJob, JobRow } from '../store/index.ts';
import type { ServiceDeps } from './deps.ts';

/** `group[i]` scored `outputs[i]`; a job whose submission or consent is gone by now is left out. */
export async function signResults(
  deps: ServiceDeps,
  group: Array<{ job: JobRow }>,
  outputs: ResultOutput[],
): Promise<CompletedJob[]> {
  const done: CompletedJob[] = [];
  const submissions = await Promise.all(group.map((g) => deps.store.submissionMeta(g.job.submissionId)));
  // A result names its consent by the consent's `consentRef` (the tagged hash of its exact JWS), the value the
  // data owner was handed when signing it, not by the id the service files it under.
  const consents = await Promise.all(group.map((g) => deps.store.consentMeta(g.job.consentId)));
  const requestOf = (g: (typeof group)[number], i: number) => {
    const consent = consents[i];
    return consent
      ? { requestId: g.job.requestId as Hex, nonce: g.job.nonce as Hex, consentRef: consent.ref as Hex }
      : undefined;
  };
  if (deps.resultSigning === 'batch') {
    // One signature for the group: a head over the RFC 9162 root of its results' log leaves, each result with
    // its inclusion proof (protocol/result-batch.ts).
    const items = group.flatMap((g, i) => {
      const output = outputs[i];
      const sub = submissions[i];
      const request = requestOf(g, i);
      return output && sub && request
        ? [{ g, item: { request, output, inputCommitment: sub.inputCommitment as Hex } }]
        : [];
    });
    if (items.length === 0) return [];
    const signed = await deps.enclave.signResultBatch(items.map((x) => x.item));
    items.forEach((x, i) => {
      const { head, ...rest } = signed.results[i] as BatchedResult;
      done.push({
        jobId: x.g.job.id,
        attestation: JSON.stringify(rest),
        structHash: signed.structHashes[i] as string,
        head,
      });
    });
    return done;
  }
  await Promise.all(
    group.map(async (g, i) => {
      const output = outputs[i];
      const sub = submissions[i];
      const request = requestOf(g, i);
      if (!output || !sub || !request) return;
      // The struct hash (the log leaf's datum) comes back with the attestation, computed once for the EIP-712
      // signature: neither the JWS is re-parsed nor the statement hashed again.
      const { attestation, structHash } = await deps.enclave.signResultWithBody(
        request,
        output,
        sub.inputCommitment as Hex,
      );
      done.push({ jobId: g.job.id, attestation: JSON.stringify(attestation), structHash });
    }),
  );
  return done;
}
