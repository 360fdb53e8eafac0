// Log checks: the result leaf equals viem's EIP-712 hashStruct (what the escrow recomputes), and coded failures.
import { describe, expect, it } from 'vitest';
import { DEMO_OUTPUT, SAMPLE_STATEMENT, commitInputs } from '../enclave/index.ts';
import { hex32, simEnclave } from '../testing/enclave.ts';
import { hashStruct, hashTypedData } from 'viem';
import {
  RESULT_TYPES,
  resultDigest,
  resultMessage,
  resultStructHash,
  toTypedDataDomain,
  type Eip712DomainValue,
  EMPTY_TREE_ROOT,
  toHex,
  type ResultBody,
} from '../protocol/index.ts';
import { resultBodyOfJws, verifyLogConsistency, verifyLogInclusion, verifySignedTreeHead } from './log.ts';

// Reference: viem's generic EIP-712 encoder.
const structViem = (b: ResultBody) =>
  hashStruct({ data: resultMessage(b), primaryType: 'PropsResult', types: RESULT_TYPES });
const digestViem = (d: Eip712DomainValue, b: ResultBody) =>
  hashTypedData({
    domain: toTypedDataDomain(d),
    types: RESULT_TYPES,
    primaryType: 'PropsResult',
    message: resultMessage(b),
  });

describe('result leaf', () => {
  it('matches viem hashStruct(PropsResult) and hashTypedData for approve and decline, high scores and large timestamps', async () => {
    const e = await simEnclave({ seed: 'leaf' });
    for (const output of [
      DEMO_OUTPUT,
      { score: 1000, decision: 'decline' as const, threshold: 1000, reasonCodes: [] },
      { ...DEMO_OUTPUT, score: 0 },
    ]) {
      const att = await e.signResult(
        { requestId: hex32('01'), nonce: hex32('02'), consentRef: hex32('03') },
        output,
        commitInputs(SAMPLE_STATEMENT),
      );
      const body = resultBodyOfJws(att.jws);
      expect(resultStructHash(resultMessage(body))).toBe(structViem(body));
      const late = { ...body, iat: 2 ** 40 + 7 };
      expect(resultStructHash(resultMessage(late))).toBe(structViem(late));
      for (const domain of [
        e.eip712Domain,
        { name: 'Props', version: '1', chainId: 8453, verifyingContract: '0x00000000000000000000000000000000000000AA' },
      ]) {
        expect(resultDigest(domain, body)).toBe(digestViem(domain, body));
        expect(resultDigest(domain, late)).toBe(digestViem(domain, late));
      }
    }
  });

  it('refuses malformed heads and proofs with their codes', async () => {
    const e = await simEnclave({ seed: 'leaf' });
    await expect(verifySignedTreeHead({ treeSize: 1 }, e.evidence.keys)).rejects.toMatchObject({
      code: 'ERR_LOG_HEAD_INVALID',
    });
    expect(() =>
      verifyLogInclusion({ leafHash: hex32('01'), index: 0, treeSize: 1, proof: ['nope'], rootHash: hex32('01') }),
    ).toThrow(expect.objectContaining({ code: 'ERR_LOG_INCLUSION_INVALID' }));
  });
});

describe('RFC 6962 edge', () => {
  it('verifyLogConsistency refuses a size-0 → size-0 "proof" to any root but the empty-tree root', () => {
    const empty = toHex(EMPTY_TREE_ROOT);
    expect(() =>
      verifyLogConsistency({ oldSize: 0, newSize: 0, oldRoot: empty, newRoot: hex32('aa'), proof: [] }),
    ).toThrow(expect.objectContaining({ code: 'ERR_LOG_CONSISTENCY_INVALID' }));
    expect(() =>
      verifyLogConsistency({ oldSize: 0, newSize: 0, oldRoot: empty, newRoot: empty, proof: [] }),
    ).not.toThrow();
    expect(() =>
      verifyLogConsistency({ oldSize: 0, newSize: 3, oldRoot: empty, newRoot: hex32('aa'), proof: [] }),
    ).not.toThrow();
  });
});
