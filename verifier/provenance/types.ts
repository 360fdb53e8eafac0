// The common output of every provenance verifier: who vouched, for which host, when, and exactly which bytes they
// vouched for — plus the digest that goes into a result's input commitment.
import {
  canonicalJson,
  sha256Tagged,
  toHex,
  utf8,
  type Hex,
  type ProvenanceKind,
  type PublicJwk,
  type Statement,
} from '../../protocol/index.ts';
import type { ProvenancePolicy } from './policy.ts';

/** One authenticated span of data. For TLSNotary these are transcript ranges; other kinds have one span. */
export type RevealedRange = {
  direction: 'sent' | 'received';
  /** Offset in the transcript (0 for kinds without a transcript). */
  start: number;
  bytes: Uint8Array;
};

export type ProvenanceVerdict = {
  kind: ProvenanceKind;
  /** Notary key (0x SEC1), witness address (0x, lower case), or `kid` of the source / enclave key. */
  signer: string;
  host: string;
  /** ISO 8601 UTC time the proof speaks for (connection, claim, issue or fetch time). */
  time: string;
  /** Only authenticated bytes: a redacted byte never appears here. */
  revealed: RevealedRange[];
  /** The response body, when it is wholly authenticated (absent if any byte of it was redacted or not disclosed). */
  body?: Uint8Array;
  /** Records parsed from the certified data, when it carries a bank Statement. */
  statement?: Statement;
  /** Reclaim: the witness-certified extracted parameters. */
  claims?: Record<string, string>;
  /** Digest binding this proof into an input commitment (tag props/provenance/v1). */
  digest: Hex;
};

export type VerifyProvenanceOptions = {
  policy: ProvenancePolicy;
  now: Date;
  /**
   * Enclave JWS keys bound in evidence the caller has already verified (attested-fetch only): trusted in addition to
   * the policy's `attestedFetch.enclaveKeys`.
   */
  boundEnclaveKeys?: readonly PublicJwk[];
};

export const PROVENANCE_DIGEST_TAG = 'props/provenance/v1';

/**
 * Digest over who/where/when plus a SHA-256 per revealed range, so two proofs that certify the same bytes from the
 * same signer commit identically, and the records themselves never need to leave the enclave.
 */
export function provenanceDigest(v: Omit<ProvenanceVerdict, 'digest'>, proofDigest: Hex): Hex {
  const ranges = v.revealed.map((r) => ({
    d: r.direction,
    s: r.start,
    h: toHex(sha256Tagged('props/provenance/range/v1', r.bytes)),
  }));
  return toHex(
    sha256Tagged(
      PROVENANCE_DIGEST_TAG,
      utf8(canonicalJson({ kind: v.kind, signer: v.signer, host: v.host, time: v.time, proof: proofDigest, ranges })),
    ),
  );
}

export const isoFromSeconds = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
