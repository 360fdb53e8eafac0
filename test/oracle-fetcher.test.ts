// The attested fetcher against the bank-portal fixture over real TLS: what it records, and each coded refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactVerify, generateKeyPair, type CryptoKey } from 'jose';
import {
  ATTESTED_FETCH_JWS_TYP,
  attestedFetchRecord,
  bodyDigest,
  certChainDigest,
  fromBase64,
  statement as statementSchema,
} from '../protocol/index.ts';
import { startBankPortal, staticRoute, type BankPortal } from '../sim/bank/portal.ts';
import { createTestCa } from '../sim/bank/test-ca.ts';
import { sampleStatement } from '../sim/bank/sample.ts';
import { createAttestedFetcher, type AttestedFetchPolicy } from '../enclave/fetcher.ts';
import { joseJwsSigner, nodeEs256Signer } from '../enclave/jws-signer.ts';
import { generateKeyPairSync } from 'node:crypto';
import { createServer as httpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as netServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { TLSSocket, createSecureContext } from 'node:tls';
import { fetchSignedStatement } from '../oracle/source.ts';

const TOKEN = 'tok_live_7fQ2x9Lr0ZpV4mK8';
const NOW = new Date('2026-11-22T04:00:00.000Z');
let portal: BankPortal;
let enclaveKey: { privateKey: CryptoKey; publicKey: CryptoKey };

const policyFor = (p: BankPortal, over: Partial<AttestedFetchPolicy> = {}): AttestedFetchPolicy => ({
  allowedHosts: [p.host],
  extraCaPems: [p.caPem],
  useSystemRoots: true,
  maxBodyBytes: 1 << 20,
  timeoutMs: 5000,
  ...over,
});

beforeAll(async () => {
  portal = await startBankPortal({ statementFor: sampleStatement, accounts: [{ accountId: 'acc-1', token: TOKEN }] });
  enclaveKey = await generateKeyPair('ES256');
});
afterAll(() => portal.close());

const fetcherFor = (p: BankPortal, over: Partial<AttestedFetchPolicy> = {}, route = p.route) =>
  createAttestedFetcher(policyFor(p, over), {
    now: () => NOW,
    signer: joseJwsSigner(enclaveKey.privateKey, 'enclave-jws'),
    route,
  });

describe('attested fetch', () => {
  it('records url, status, TLS version, chain digest, time and body digest, signed by the enclave key', async () => {
    const out = await fetcherFor(portal)({ url: portal.statementUrl('acc-1'), token: TOKEN });
    const { record } = out;
    expect(attestedFetchRecord.parse(record)).toEqual(record);
    expect(record).toMatchObject({
      url: portal.statementUrl('acc-1'),
      host: 'bank.props.test',
      status: 200,
      time: NOW.toISOString(),
    });
    expect(['TLSv1.2', 'TLSv1.3']).toContain(record.tlsVersion);
    expect(record.bodySha256).toBe(bodyDigest(out.body));
    expect(record.certChainSha256).toBe(certChainDigest([portal.leafDer, portal.ca.der])); // leaf, then the anchor
    expect(new URL(record.url).port).toBe(''); // the URL a real bank would have; routing to the fixture is injected
    expect(statementSchema.parse(JSON.parse(new TextDecoder().decode(fromBase64(out.proof.body!))))).toEqual(
      sampleStatement('acc-1'),
    );
    const v = await compactVerify(out.proof.jws, enclaveKey.publicKey);
    expect(v.protectedHeader.typ).toBe(ATTESTED_FETCH_JWS_TYP);
    expect(JSON.parse(new TextDecoder().decode(v.payload))).toEqual(record);
    expect(out.proof.jws).not.toContain(TOKEN);
    expect(JSON.stringify(record)).not.toContain(TOKEN);
  });

  it('the node:crypto ES256 signer makes a JWS jose verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const f = createAttestedFetcher(policyFor(portal), {
      now: () => NOW,
      signer: nodeEs256Signer(privateKey, 'k1'),
      route: portal.route,
    });
    const out = await f({ url: portal.statementUrl('acc-1'), token: TOKEN });
    const v = await compactVerify(out.proof.jws, publicKey, { algorithms: ['ES256'] });
    expect(v.protectedHeader).toEqual({ alg: 'ES256', typ: ATTESTED_FETCH_JWS_TYP, kid: 'k1' });
    expect(JSON.parse(new TextDecoder().decode(v.payload))).toEqual(out.record);
  });

  it('records a refused token as status 401 (the verifier, not the fetcher, refuses non-2xx)', async () => {
    const out = await fetcherFor(portal)({ url: portal.statementUrl('acc-1'), token: 'wrong' });
    expect(out.record.status).toBe(401);
  });

  it('refuses a host the policy does not list', async () => {
    await expect(
      fetcherFor(portal, { allowedHosts: ['other.props.test'] })({ url: portal.statementUrl('acc-1'), token: TOKEN }),
    ).rejects.toMatchObject({ code: 'ERR_PROVENANCE_HOST_NOT_ALLOWED' });
  });

  it('refuses plain http, userinfo and IP literals', async () => {
    const f = fetcherFor(portal, { allowedHosts: ['bank.props.test', '127.0.0.1'] });
    await expect(f({ url: 'http://bank.props.test/x', token: TOKEN })).rejects.toMatchObject({
      code: 'ERR_FETCH_URL_NOT_ALLOWED',
    });
    await expect(f({ url: 'https://u:p@bank.props.test/x', token: TOKEN })).rejects.toMatchObject({
      code: 'ERR_FETCH_URL_NOT_ALLOWED',
    });
    await expect(f({ url: `https://127.0.0.1:${portal.port}/x`, token: TOKEN })).rejects.toMatchObject({
      code: 'ERR_FETCH_URL_NOT_ALLOWED',
    });
  });

  it('attack: DNS points an allowed name at a server whose certificate names another host', async () => {
    const route = staticRoute({ 'other.props.test': { address: '127.0.0.1', port: portal.port } });
    const f = fetcherFor(portal, { allowedHosts: ['other.props.test'] }, route);
    await expect(f({ url: 'https://other.props.test/accounts/acc-1/statement', token: TOKEN })).rejects.toMatchObject({
      code: 'ERR_FETCH_HOST_MISMATCH',
    });
  });

  it('attack: a certificate cached from a good fetch is still refused for a name it does not cover', async () => {
    const route = staticRoute({
      [portal.host]: { address: '127.0.0.1', port: portal.port },
      'other.props.test': { address: '127.0.0.1', port: portal.port },
    });
    const f = fetcherFor(portal, { allowedHosts: [portal.host, 'other.props.test'] }, route);
    expect((await f({ url: portal.statementUrl('acc-1'), token: TOKEN })).record.status).toBe(200);
    await expect(f({ url: 'https://other.props.test/accounts/acc-1/statement', token: TOKEN })).rejects.toMatchObject({
      code: 'ERR_FETCH_HOST_MISMATCH',
    });
    expect((await f({ url: portal.statementUrl('acc-1'), token: TOKEN })).record.status).toBe(200);
  });

  it('attack: wildcard certificate covering the pinned name is refused', async () => {
    const wild = await startBankPortal({
      statementFor: sampleStatement,
      accounts: [{ accountId: 'acc-1', token: TOKEN }],
      tls: { certNames: ['*.props.test'] },
    });
    try {
      await expect(fetcherFor(wild)({ url: wild.statementUrl('acc-1'), token: TOKEN })).rejects.toMatchObject({
        code: 'ERR_FETCH_HOST_MISMATCH',
      });
    } finally {
      await wild.close();
    }
  });

  it('attack: server certificate from a CA the policy does not trust', async () => {
    const rogue = await startBankPortal({
      statementFor: sampleStatement,
      accounts: [{ accountId: 'acc-1', token: TOKEN }],
      tls: { ca: await createTestCa({ name: 'Rogue CA' }) },
    });
    try {
      const f = fetcherFor(rogue, { extraCaPems: [portal.caPem] }); // trusts the real bank CA, not the rogue one
      await expect(f({ url: rogue.statementUrl('acc-1'), token: TOKEN })).rejects.toMatchObject({
        code: 'ERR_PROVENANCE_CERT_CHAIN_INVALID',
      });
    } finally {
      await rogue.close();
    }
  });

  it('refuses a response over the size limit', async () => {
    await expect(
      fetcherFor(portal, { maxBodyBytes: 64 })({ url: portal.statementUrl('acc-1'), token: TOKEN }),
    ).rejects.toMatchObject({ code: 'ERR_FETCH_RESPONSE_TOO_LARGE' });
  });

  it('never puts the token in an error', async () => {
    const route = staticRoute({});
    const errs: unknown[] = [];
    for (const f of [fetcherFor(portal, {}, route), fetcherFor(portal, { allowedHosts: ['x.test'] })]) {
      await f({ url: portal.statementUrl('acc-1'), token: TOKEN }).catch((e: unknown) => errs.push(e));
    }
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatchObject({ code: 'ERR_FETCH_FAILED' });
    for (const e of errs) {
      expect(String((e as Error).message) + JSON.stringify(e) + String((e as Error).stack)).not.toContain(TOKEN);
      expect((e as Error).cause).toBeUndefined();
    }
  });
});

/** A bank host on loopback that answers each request as `respond` says; certificate for `host` from its own test CA. */
async function rogueBank(respond: Parameters<typeof httpsServer>[1], host = 'slow.props.test') {
  const ca = await createTestCa({ name: 'Rogue bank CA' });
  const leaf = await ca.issueServer([host]);
  const srv: HttpsServer = httpsServer({ cert: leaf.certPem, key: leaf.keyPem }, respond);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const route = staticRoute({ [host]: { address: '127.0.0.1', port: (srv.address() as AddressInfo).port } });
  const port = (srv.address() as AddressInfo).port;
  return { host, port, caPem: ca.certPem, route, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

describe('attested fetch: what the network can do', () => {
  it('attack: an explicit port on an allowed host is refused before connecting (no token sent, no unverifiable record)', async () => {
    // Another service on an allowed host (here `localhost`, reached by its real port, no routing), with a
    // certificate that names the host: without the port rule it would receive the token.
    let requests = 0;
    const other = await rogueBank((_req, res) => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' }).end('{}');
    }, 'localhost');
    try {
      const f = createAttestedFetcher(
        {
          allowedHosts: ['localhost'],
          extraCaPems: [other.caPem],
          useSystemRoots: false,
          maxBodyBytes: 1 << 20,
          timeoutMs: 2000,
        },
        { now: () => NOW, signer: joseJwsSigner(enclaveKey.privateKey, 'enclave-jws') },
      );
      await expect(f({ url: `https://localhost:${other.port}/statement`, token: TOKEN })).rejects.toMatchObject({
        code: 'ERR_FETCH_URL_NOT_ALLOWED',
        detail: 'port',
      });
      expect(requests).toBe(0);
      // The default port written out is the same URL (the URL parser drops it), and is fetched.
      expect(
        (await fetcherFor(portal)({ url: `https://${portal.host}:443/accounts/acc-1/statement`, token: TOKEN })).record
          .status,
      ).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('attack: a slow-drip server cannot hold the fetch past timeoutMs (a wall-clock deadline, not an idle timer)', async () => {
    const timers: ReturnType<typeof setInterval>[] = [];
    // A byte every 50 ms: the socket is never idle for timeoutMs, but the body takes ~3 s.
    const bank = await rogueBank((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      let n = 0;
      const t = setInterval(() => (++n >= 60 ? (clearInterval(t), res.end('{}')) : res.write(' ')), 50);
      timers.push(t);
      res.on('close', () => clearInterval(t));
    });
    try {
      const f = createAttestedFetcher(
        {
          allowedHosts: [bank.host],
          extraCaPems: [bank.caPem],
          useSystemRoots: false,
          maxBodyBytes: 1 << 20,
          timeoutMs: 300,
        },
        { now: () => NOW, signer: joseJwsSigner(enclaveKey.privateKey, 'enclave-jws'), route: bank.route },
      );
      const t0 = Date.now();
      await expect(f({ url: `https://${bank.host}/statement`, token: TOKEN })).rejects.toMatchObject({
        code: 'ERR_FETCH_TIMEOUT',
      });
      expect(Date.now() - t0).toBeLessThan(1500);
      // The data owner's own fetch of a signed statement has the same deadline.
      const t1 = Date.now();
      await expect(
        fetchSignedStatement({
          url: `https://${bank.host}/statement`,
          token: TOKEN,
          caPems: [bank.caPem],
          route: bank.route,
          timeoutMs: 300,
        }),
      ).rejects.toMatchObject({ code: 'ERR_FETCH_TIMEOUT' });
      expect(Date.now() - t1).toBeLessThan(1500);
    } finally {
      for (const t of timers) clearInterval(t);
      await bank.close();
    }
  });

  it('attack: a close-delimited response cut by a TCP FIN (no TLS close_notify) is refused, not signed as complete', async () => {
    const ca = await createTestCa({ name: 'Truncating CA' });
    const leaf = await ca.issueServer(['cut.props.test']);
    const ctx = createSecureContext({ cert: leaf.certPem, key: leaf.keyPem });
    // Neither Content-Length nor chunked: the body ends when the connection does, and the "network" ends it early.
    const srv: NetServer = netServer((raw) => {
      const s = new TLSSocket(raw, { isServer: true, secureContext: ctx });
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"ok":1', () =>
          setTimeout(() => raw.end(), 20),
        );
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const route = staticRoute({
        'cut.props.test': { address: '127.0.0.1', port: (srv.address() as AddressInfo).port },
      });
      const f = createAttestedFetcher(
        {
          allowedHosts: ['cut.props.test'],
          extraCaPems: [ca.certPem],
          useSystemRoots: false,
          maxBodyBytes: 1 << 20,
          timeoutMs: 2000,
        },
        { now: () => NOW, signer: joseJwsSigner(enclaveKey.privateKey, 'enclave-jws'), route },
      );
      await expect(f({ url: 'https://cut.props.test/statement', token: TOKEN })).rejects.toMatchObject({
        code: 'ERR_FETCH_FAILED',
        detail: 'close-delimited response',
      });
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
