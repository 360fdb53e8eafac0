// The oracle's consent format at the service boundary: a crafted consent is refused with a code, never a 500.
import { describe, expect, it } from 'vitest';
import { simEnclave } from '../../test/helpers.ts';
import { testService } from '../../test/service-helpers.ts';
import { oracleBoundary } from './oracle-adapters.ts';

describe('oracle boundary: consents', () => {
  it('attack: a consent whose payload is not an object (null, a number, a string, an array) is malformed, not a crash', async () => {
    const enclave = await simEnclave({ seed: 'service' });
    const b = oracleBoundary({ enclave, verifyProvenance: async () => { throw new Error('not reached'); }, clock: () => new Date() });
    const w = await testService({ enclave, ingest: b.ingest, verifyConsent: b.verifyConsent });
    for (const payload of ['null', '1', '"x"', '[]']) {
      const consent = `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(payload).toString('base64url')}.c2ln`;
      await expect(b.verifyConsent(consent, async () => undefined)).rejects.toMatchObject({ code: 'ERR_CONSENT_MALFORMED' });
      const r = await w.call('POST', '/v1/consents', { consent });
      expect(r.status).toBe(400);
      expect(r.json.code).toBe('ERR_CONSENT_MALFORMED');
    }
  });
});
