// The bank-portal fixture over real TLS with its test CA: accounts, refusals, plain and signed statements, JWKS.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactVerify, createLocalJWKSet } from 'jose';
import { SIGNED_SOURCE_JWS_TYP, signedSourcePayload, statement } from '../../protocol/index.ts';
import { startBankPortal, type BankPortal } from './portal.ts';
import { sampleStatement } from './sample.ts';

const NOW = new Date('2026-11-22T04:00:00.000Z');
let portal: BankPortal;

beforeAll(async () => {
  portal = await startBankPortal({
    statementFor: (id) => (id === 'acc-empty' ? undefined : sampleStatement(id)),
    accounts: [
      { accountId: 'acc-1', token: 'tok-one' },
      { accountId: 'acc-empty', token: 'tok-empty' },
    ],
    now: () => NOW,
  });
});
afterAll(() => portal.close());

function get(path: string, headers: Record<string, string> = {}, ca: string[] = [portal.caPem]) {
  const r = portal.route(portal.host)!;
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: r.port, path, servername: portal.host, ca, headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('bank portal', () => {
  it('serves the account statement as JSON to its bearer token', async () => {
    const r = await get('/accounts/acc-1/statement', { authorization: 'Bearer tok-one' });
    expect(r.status).toBe(200);
    expect(statement.parse(JSON.parse(r.body))).toEqual(sampleStatement('acc-1'));
  });

  it('refuses a missing or unknown token (401), another account (403), an account without records (404)', async () => {
    expect((await get('/accounts/acc-1/statement')).status).toBe(401);
    expect((await get('/accounts/acc-1/statement', { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await get('/accounts/acc-1/statement', { authorization: 'Bearer tok-empty' })).status).toBe(403);
    expect((await get('/accounts/acc-empty/statement', { authorization: 'Bearer tok-empty' })).status).toBe(404);
    expect((await get('/nowhere', { authorization: 'Bearer tok-one' })).status).toBe(404);
  });

  it('signs the statement (JWS, ES256) verifiable with its published JWKS', async () => {
    const r = await get('/accounts/acc-1/statement', { authorization: 'Bearer tok-one', accept: 'application/jose' });
    expect(r.type).toBe('application/jose');
    const jwks = JSON.parse((await get('/.well-known/jwks.json')).body) as { keys: never[] };
    const { payload, protectedHeader } = await compactVerify(r.body, createLocalJWKSet(jwks));
    expect(protectedHeader.typ).toBe(SIGNED_SOURCE_JWS_TYP);
    const p = signedSourcePayload.parse(JSON.parse(new TextDecoder().decode(payload)));
    expect(p).toMatchObject({
      iss: 'bank.props.test',
      sub: 'acc-1',
      iat: NOW.getTime() / 1000,
      exp: NOW.getTime() / 1000 + 3600,
    });
    expect(p.statement).toEqual(sampleStatement('acc-1'));
  });

  it('is not trusted without its test CA', async () => {
    await expect(get('/.well-known/jwks.json', {}, [])).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });
});
