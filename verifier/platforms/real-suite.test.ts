// Shared behaviour suite every real platform verifier runs: hostile bytes fail closed with a stable PropsError
// code (never a TypeError, never success), and the context inputs are checked.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isPropsError } from '../../protocol/index.ts';
import { makeRealVerifiers } from './real.ts';

const verifiers = makeRealVerifiers();
/** Deterministic pseudo-random bytes (SHA-256 counter mode), so a failure reproduces. */
const noise = (n: number) =>
  new Uint8Array(
    Buffer.concat(
      Array.from({ length: Math.ceil(n / 32) }, (_, i) => createHash('sha256').update(`props-${i}`).digest()),
    ).subarray(0, n),
  );
const now = new Date('2025-07-04T10:24:15Z');

describe.each(Object.values(verifiers))('$platform verifier fails closed', (v) => {
  it.each([
    ['empty evidence', new Uint8Array()],
    ['one byte', Uint8Array.of(4)],
    ['pseudo-random bytes', noise(2048)],
    ['a DCAP-looking header then noise', new Uint8Array([4, 0, 2, 0, 0x81, 0, 0, 0, ...noise(1200)])],
    ['zeros', new Uint8Array(5000)],
    ['0xff bytes', new Uint8Array(1184).fill(0xff)],
  ])('%s is refused with a coded error', async (_n, bytes) => {
    const err = await v.verify(bytes, { now, collateral: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPropsError(err)).toBe(true);
  });

  it('unknown context inputs are refused', async () => {
    await expect(v.verify(new Uint8Array(10), { now, collateral: { surprise: 1 } })).rejects.toMatchObject({
      code: 'ERR_INPUT_MALFORMED',
    });
  });
});

describe('inputs in the JSON form an Evidence record carries', () => {
  it('malformed JSON inputs are refused', async () => {
    await expect(
      verifiers['sev-snp'].verify(new Uint8Array(1184), { now, collateral: { certs: [42] } }),
    ).rejects.toMatchObject({ code: 'ERR_INPUT_MALFORMED' });
    await expect(
      verifiers.nvidia.verify(new Uint8Array(10), { now, collateral: { expectedNonce: 'zz' } }),
    ).rejects.toMatchObject({ code: 'ERR_INPUT_MALFORMED' });
  });
});
