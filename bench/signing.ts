// Signing schemes side by side: why the enclave's on-chain key is P-256 (node:crypto) behind one signer interface,
// and what a whole attested result (JWS + EIP-712) and its verification cost; and for a batch of 64, its statements'
// struct hashes one by one against the batch path, and the whole batch signature.
import { generateKeyPairSync, sign } from 'node:crypto';
import { CompactSign } from 'jose';
import { sign as viemSign } from 'viem/accounts';
import { bench, printTable, wantsJson } from './harness.ts';
import { commitInputs, DEMO_OUTPUT, SAMPLE_STATEMENT } from '../enclave/index.ts';
import { resultStructHashesOf, resultStructHashOf } from '../protocol/index.ts';
import { verifyResult } from '../verifier/index.ts';
import { simEnclave, simPolicy, NOW, hex32 } from '../testing/enclave.ts';

export async function runSigningBench() {
  const digest = new Uint8Array(32).fill(7);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const k1 = `0x${'11'.repeat(32)}` as const;
  const p256 = await simEnclave({ seed: 'bench' });
  const k256 = await simEnclave({ seed: 'bench', chainScheme: 'secp256k1' });
  const req = { requestId: hex32('01'), nonce: hex32('02'), consentRef: hex32('03') };
  const commitment = commitInputs(SAMPLE_STATEMENT);
  const att = await p256.signResult(req, DEMO_OUTPUT, commitment);
  const policy = simPolicy();
  const batchItems = Array.from({ length: 64 }, (_, i) => ({
    request: { requestId: hex32((i + 1).toString(16).padStart(2, '0')), nonce: hex32('02'), consentRef: hex32('03') },
    output: { ...DEMO_OUTPUT, score: (DEMO_OUTPUT.score + i) % 1001 },
    inputCommitment: commitment,
  }));
  const bodies = (await p256.signResultBatch(batchItems)).results.map((r) => r.body);
  const rows = [
    await bench('p256 sign (node:crypto)', () =>
      sign('sha256', digest, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
    ),
    await bench('p256 EIP-712 digest sign (ChainSigner)', () => p256.keys.chainSigner.signDigest(digest)),
    await bench(
      'secp256k1 EIP-712 digest sign (viem)',
      () => viemSign({ hash: `0x${'07'.repeat(32)}`, privateKey: k1 }),
      { iterations: 500 },
    ),
    await bench('ES256 JWS (jose)', () =>
      new CompactSign(digest).setProtectedHeader({ alg: 'ES256' }).sign(p256.keys.jwsPrivateKey),
    ),
    await bench('ES256 JWS (Enclave.signJws, node:crypto)', () => p256.signJws(digest, { typ: 'bench+jws' })),
    await bench('signResult, p256 on-chain key', () => p256.signResult(req, DEMO_OUTPUT, commitment), {
      iterations: 1000,
    }),
    await bench('signResult, secp256k1 on-chain key', () => k256.signResult(req, DEMO_OUTPUT, commitment), {
      iterations: 300,
    }),
    await bench('64 struct hashes, resultStructHashOf each', () => bodies.map(resultStructHashOf), {
      iterations: 1000,
    }),
    await bench('64 struct hashes, resultStructHashesOf', () => resultStructHashesOf(bodies), { iterations: 1000 }),
    await bench('signResultBatch, 64 results', () => p256.signResultBatch(batchItems), { iterations: 500 }),
    await bench(
      'verifyResult (lender side)',
      () =>
        verifyResult(att, {
          evidence: p256.evidence,
          evidenceDigest: p256.evidenceDigest,
          manifest: p256.manifest,
          policy,
          now: NOW,
          expected: req,
        }),
      { iterations: 500 },
    ),
  ];
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runSigningBench();
  if (wantsJson()) process.stdout.write(`${JSON.stringify({ bench: 'signing', rows })}\n`);
  else printTable('Signing (one result = one JWS + one EIP-712 signature)', rows, 'p256 sign (node:crypto)');
}
