import { describe, expect, it } from 'vitest';
import { hashStruct, hashTypedData } from 'viem';
import { RESULT_TYPES, resultDigestOf, resultStructHash, toTypedDataDomain, type ResultMessage } from './eip712.ts';
import { toHex } from './bytes.ts';

const rnd = () => toHex(crypto.getRandomValues(new Uint8Array(32)));

describe('EIP-712 result hashing fast path', () => {
  it('agrees with viem hashStruct and hashTypedData on random messages and domains', () => {
    for (let i = 0; i < 200; i++) {
      const m: ResultMessage = {
        requestId: rnd(),
        nonce: rnd(),
        pipelineId: rnd(),
        resultHash: rnd(),
        inputCommitment: rnd(),
        score: Math.floor(Math.random() * 1001),
        approved: Math.random() < 0.5,
        issuedAt: BigInt(Math.floor(Math.random() * 2 ** 40)),
      };
      const domain = {
        name: 'Props',
        version: '1',
        chainId: 1 + (i % 5),
        verifyingContract: toHex(crypto.getRandomValues(new Uint8Array(20))),
      };
      expect(resultStructHash(m)).toBe(hashStruct({ types: RESULT_TYPES, primaryType: 'PropsResult', data: m }));
      expect(resultDigestOf(domain, m)).toBe(
        hashTypedData({
          domain: toTypedDataDomain(domain),
          types: RESULT_TYPES,
          primaryType: 'PropsResult',
          message: m,
        }),
      );
    }
  });

  it('refuses out-of-range fields instead of truncating them', () => {
    const m: ResultMessage = {
      requestId: rnd(),
      nonce: rnd(),
      pipelineId: rnd(),
      resultHash: rnd(),
      inputCommitment: rnd(),
      score: 70000,
      approved: true,
      issuedAt: 1n,
    };
    expect(() => resultStructHash(m)).toThrow(RangeError);
    expect(() => resultStructHash({ ...m, score: 1, issuedAt: 1n << 64n })).toThrow(RangeError);
  });
});
