// TLSNotary against the real presentations in fixtures/tlsn: every file gets its expected verdict and code, redacted
// bytes are never data, and the policy limits (exact host, size) hold.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certifiedBody, isRevealed, loadTlsnWasm, readRevealed, verifyTlsn } from './index.ts';
import { isHttpOk } from './tlsn.ts';
import { basePolicy, FIXTURES, HAVE_TLSN, NOTARY, TLSN_CASES, warnSkipped } from '../../testing/provenance.ts';

const hex = (file: string) => readFileSync(join(FIXTURES, 'tlsn', file), 'utf8');
const at = (s: number) => new Date(s * 1000);

describe('tlsn response status', () => {
  it('error page as a statement: only an HTTP/1.x 200 response can carry a certified statement', () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(isHttpOk(bytes('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{}'))).toBe(true);
    expect(isHttpOk(bytes('HTTP/1.0 200 OK\r\n\r\n{}'))).toBe(true);
    for (const line of [
      'HTTP/1.1 404 Not Found',
      'HTTP/1.1 500 Internal Server Error',
      'HTTP/1.1 2000 X',
      'HTTP/2 200 ',
      'xHTTP/1.1 200 OK',
      'HTTP/1.1 301 Moved',
    ]) {
      expect(isHttpOk(bytes(`${line}\r\n\r\n{}`)), line).toBe(false);
    }
  });
});

describe('tlsn wasm loading', () => {
  it('loads once per process and leaves no browser globals behind', async () => {
    const a = await loadTlsnWasm();
    expect(await loadTlsnWasm()).toBe(a);
    expect('self' in globalThis).toBe(false);
    expect('addEventListener' in globalThis).toBe(false);
  });
});

warnSkipped('TLSNotary fixture tests', HAVE_TLSN);
describe.skipIf(!HAVE_TLSN)('tlsn fixtures', () => {
  for (const c of TLSN_CASES) {
    it(`${c.file}: ${c.expect}`, async () => {
      const run = verifyTlsn(hex(c.file), {
        policy: basePolicy({
          tlsn: { hosts: [c.host], notaryKeys: [NOTARY.tlsnJs, NOTARY.tlsnFixture, NOTARY.vlayer] },
        }),
        now: at(c.time),
      });
      if (c.expect === 'valid')
        await expect(run).resolves.toMatchObject({ kind: 'tlsn', host: c.host, signer: c.notary });
      else await expect(run).rejects.toMatchObject({ code: c.expect });
    });
  }

  it('untrusted notary: the invalid_signature fixture verifies only once its key is trusted (policy, not crypto, rejects it)', async () => {
    const policy = basePolicy({ tlsn: { hosts: 'any', notaryKeys: [NOTARY.untrusted] } });
    await expect(
      verifyTlsn(hex('vlayer-example_web_proof_invalid_signature.hex'), { policy, now: at(1749651861) }),
    ).resolves.toMatchObject({
      signer: NOTARY.untrusted,
    });
  });

  it('reads the certified body of a fully revealed response', async () => {
    const v = await verifyTlsn(hex('vlayer-rust_web_proof.hex'), { policy: basePolicy(), now: at(1749651847) });
    expect(JSON.parse(new TextDecoder().decode(certifiedBody(v)))).toMatchObject({ name: 'Gandalf' });
    expect(v.time).toBe('2025-06-11T14:24:07Z');
  });

  describe('redacted bytes are never data (all_redaction_types)', () => {
    const load = () =>
      verifyTlsn(hex('vlayer-rust_web_proof_all_redaction_types.hex'), { policy: basePolicy(), now: at(1749651875) });

    it('verifies, but offers no certified body because part of it is redacted', async () => {
      const v = await load();
      expect(v.body).toBeUndefined();
      expect(() => certifiedBody(v)).toThrow(expect.objectContaining({ code: 'ERR_PROVENANCE_REDACTED_BYTES' }));
    });

    it('refuses to read a range that covers a redacted byte (the redacted "name" value)', async () => {
      const v = await load();
      // received 463..475 is the redacted name inside the JSON body; 415..463 and 475..526 are revealed around it.
      expect(() => readRevealed(v, 'received', 455, 480)).toThrow(
        expect.objectContaining({ code: 'ERR_PROVENANCE_REDACTED_BYTES' }),
      );
      expect(() => readRevealed(v, 'sent', 50, 60)).toThrow(
        expect.objectContaining({ code: 'ERR_PROVENANCE_REDACTED_BYTES' }),
      );
      const greeting = new TextDecoder().decode(readRevealed(v, 'received', 475, 526));
      expect(greeting).toContain('Old Tom Bombadil');
    });

    it('revealed ranges never include filler from redacted spans', async () => {
      const v = await load();
      const received = v.revealed
        .filter((r) => r.direction === 'received')
        .map((r) => [r.start, r.start + r.bytes.length]);
      expect(received).toEqual([
        [0, 386],
        [415, 463],
        [475, 526],
      ]);
      expect(
        isRevealed(
          received.map(([start, end]) => ({ start: start!, end: end! })),
          386,
          415,
        ),
      ).toBe(false);
      // The authorization header the prover chose to reveal is data; the redacted query value is not.
      const sent = new TextDecoder().decode(readRevealed(v, 'sent', 0, 55));
      expect(sent).toContain('param1=');
    });
  });

  it('host mismatch: a valid presentation for api.x.com is refused for a policy naming only x.com', async () => {
    const policy = basePolicy({ tlsn: { hosts: ['x.com'], notaryKeys: [NOTARY.tlsnFixture] } });
    await expect(
      verifyTlsn(hex('vlayer-example_web_proof_development_signature.hex'), { policy, now: at(1759836199) }),
    ).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_HOST_NOT_ALLOWED',
    });
  });

  it('host mismatch: a wildcard-shaped policy entry never matches (hosts are compared exactly)', async () => {
    const policy = { ...basePolicy(), tlsn: { hosts: ['*.x.com'], notaryKeys: [NOTARY.tlsnFixture] } };
    await expect(
      verifyTlsn(hex('vlayer-example_web_proof_development_signature.hex'), { policy, now: at(1759836199) }),
    ).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_HOST_NOT_ALLOWED',
    });
  });

  it('oversized transcript: refused when sent + received exceed the policy limit', async () => {
    const policy = basePolicy({ maxTranscriptBytes: 700 });
    await expect(verifyTlsn(hex('vlayer-rust_web_proof.hex'), { policy, now: at(1749651847) })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_TRANSCRIPT_TOO_LARGE',
    });
  });

  it('oversized input: refused before the wasm parses it', async () => {
    const policy = basePolicy({ maxTranscriptBytes: 1000 });
    await expect(
      verifyTlsn(hex('tlsn-js-alpha12_raw-githubusercontent.hex'), { policy, now: at(1748415894) }),
    ).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_TRANSCRIPT_TOO_LARGE',
    });
  });

  it('malformed: truncated bytes and non-hex text', async () => {
    const h = hex('vlayer-rust_web_proof.hex').trim();
    await expect(verifyTlsn(h.slice(0, 2000), { policy: basePolicy(), now: at(1749651847) })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_MALFORMED',
    });
    await expect(verifyTlsn('not hex', { policy: basePolicy(), now: at(1749651847) })).rejects.toMatchObject({
      code: 'ERR_PROVENANCE_MALFORMED',
    });
  });
});
