// Reclaim Protocol signed claims: recompute the claim identifier from its contents, recover each witness signature
// (EIP-191 personal_sign) and require every recovered signer to be a witness the policy trusts.
import { z } from 'zod';
import { keccak256, recoverMessageAddress, stringToBytes, type Hex as ViemHex } from 'viem';
import { canonicalJson, hostName, parseWith, PropsError, toHex, sha256, utf8, type Hex } from '../../protocol/index.ts';
import { checkFreshness, checkHost } from './policy.ts';
import { isoFromSeconds, provenanceDigest, type ProvenanceVerdict, type VerifyProvenanceOptions } from './types.ts';

const claimData = z.object({
  provider: z.string().min(1).max(256),
  parameters: z.string().max(64 * 1024),
  owner: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  timestampS: z.number().int().positive(),
  context: z.string().max(64 * 1024),
  identifier: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  epoch: z.number().int().nonnegative(),
});

/** The proof object as the Reclaim SDKs emit it; extra members (publicData, …) are tolerated but never trusted. */
export const reclaimProof = z.object({
  identifier: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  claimData,
  signatures: z
    .array(z.string().regex(/^0x[0-9a-fA-F]{130}$/))
    .min(1)
    .max(16),
  witnesses: z
    .array(z.object({ id: z.string(), url: z.string() }))
    .max(16)
    .optional(),
});
export type ReclaimProof = z.infer<typeof reclaimProof>;

const parameters = z.object({ url: z.string().max(4096) });
const context = z.object({ extractedParameters: z.record(z.string(), z.string()).optional() });

/** keccak256(provider \n parameters \n canonical(context)), as the Reclaim SDK computes it. */
export function reclaimIdentifier(c: { provider: string; parameters: string; context: string }): Hex {
  const ctx = c.context.length > 0 ? canonicalJson(JSON.parse(c.context) as unknown) : '';
  return keccak256(stringToBytes(`${c.provider}\n${c.parameters}\n${ctx}`)) as Hex;
}

/** The string a witness signs for a claim. */
export const reclaimSignedMessage = (c: z.infer<typeof claimData>): string =>
  `${c.identifier.toLowerCase()}\n${c.owner.toLowerCase()}\n${c.timestampS}\n${c.epoch}`;

export async function verifyReclaim(input: unknown, opts: VerifyProvenanceOptions): Promise<ProvenanceVerdict> {
  const { policy, now } = opts;
  const proof = parseWith(reclaimProof, input, 'ERR_PROVENANCE_MALFORMED');
  const c = proof.claimData;

  let id: Hex;
  try {
    id = reclaimIdentifier(c);
  } catch (cause) {
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'claim context is not JSON', cause });
  }
  if (id !== c.identifier.toLowerCase() || id !== proof.identifier.toLowerCase())
    throw new PropsError('ERR_PROVENANCE_CLAIM_MISMATCH');

  const message = reclaimSignedMessage(c);
  const signers: string[] = [];
  for (const sig of proof.signatures) {
    let who: string;
    try {
      who = (await recoverMessageAddress({ message, signature: sig as ViemHex })).toLowerCase();
    } catch (cause) {
      throw new PropsError('ERR_PROVENANCE_SIGNATURE_INVALID', { cause });
    }
    // A tampered owner/timestamp/epoch recovers to some other address: that is an untrusted witness, not a pass.
    if (!policy.reclaim.witnesses.some((w) => w.toLowerCase() === who))
      throw new PropsError('ERR_PROVENANCE_WITNESS_UNTRUSTED');
    if (signers.includes(who))
      throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'duplicate witness signature' });
    signers.push(who);
  }

  const params = parseJsonWith(parameters, c.parameters);
  // A templated or wildcard host ({{…}}, *) would let one claim stand for many names: never a plain host.
  if (/^[a-z]+:\/\/[^/?#]*[{}*%]/i.test(params.url)) {
    throw new PropsError('ERR_PROVENANCE_HOST_NOT_ALLOWED', { detail: 'claim url host is templated or a wildcard' });
  }
  let url: URL;
  try {
    url = new URL(params.url);
  } catch (cause) {
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'claim url', cause });
  }
  const host = hostName.safeParse(url.hostname);
  if (url.protocol !== 'https:' || !host.success || url.port !== '') {
    throw new PropsError('ERR_PROVENANCE_HOST_NOT_ALLOWED', { detail: 'claim url is not a plain https host' });
  }
  checkHost(policy.reclaim.hosts, host.data);
  checkFreshness(policy, c.timestampS, now);

  const ctx = c.context.length > 0 ? parseJsonWith(context, c.context) : {};
  const claims = ctx.extractedParameters ?? {};
  const base = {
    kind: 'reclaim' as const,
    signer: signers[0] as string,
    host: host.data,
    time: isoFromSeconds(c.timestampS),
    revealed: [{ direction: 'received' as const, start: 0, bytes: utf8(canonicalJson(claims)) }],
    claims,
  };
  return { ...base, digest: provenanceDigest(base, toHex(sha256(utf8(`${id}\n${message}`)))) };
}

function parseJsonWith<S extends z.ZodType>(schema: S, text: string): z.output<S> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new PropsError('ERR_PROVENANCE_MALFORMED', { detail: 'embedded JSON', cause });
  }
  return parseWith(schema, v, 'ERR_PROVENANCE_MALFORMED');
}
