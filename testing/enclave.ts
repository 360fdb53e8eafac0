// Deterministic worlds for tests and bench: a seeded random source, a fixed clock, a sim enclave booted from them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  bootEnclave,
  createSimPlatform,
  hashModelFile,
  type BootOptions,
  type Enclave,
  type Random,
} from '../enclave/index.ts';
import { loadDefaultPolicy, verifyResult, type Policy } from '../verifier/index.ts';

export function seededRandom(seed: string): Random {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 32) {
      const block = sha256(new TextEncoder().encode(`${seed}/${counter++}`));
      out.set(block.subarray(0, Math.min(32, n - i)), i);
    }
    return out;
  };
}

export const NOW = new Date('2026-11-22T12:00:00Z');
export const fixedClock =
  (d: Date = NOW) =>
  () =>
    d;

export function tempModel(content = 'test model bytes'): string {
  const dir = mkdtempSync(join(tmpdir(), 'props-model-'));
  const p = join(dir, 'model.onnx');
  writeFileSync(p, content);
  return p;
}

export async function simEnclave(
  opts: Partial<BootOptions> & { seed?: string; debug?: boolean } = {},
): Promise<Enclave & { rootFingerprint: string }> {
  const random = seededRandom(opts.seed ?? 'enclave');
  const platform = await createSimPlatform({ random, clock: opts.clock ?? fixedClock(), debug: opts.debug ?? false });
  const modelPath = opts.modelPath ?? tempModel();
  const enclave = await bootEnclave({
    platform,
    random,
    clock: fixedClock(),
    modelPath,
    expectedModelHash: hashModelFile(modelPath),
    codeHash: opts.codeHash ?? `0x${'c0'.repeat(32)}`,
    ...opts,
  });
  const { simRootFingerprint } = await import('../enclave/index.ts');
  return Object.assign(enclave, { rootFingerprint: simRootFingerprint(platform.root.publicKey) });
}

export function simPolicy(overrides: (p: Policy) => void = () => {}): Policy {
  const p = loadDefaultPolicy();
  p.evidence.allowSimulated = true;
  overrides(p);
  return p;
}

export const hex32 = (byte: string) => `0x${byte.repeat(32)}` as `0x${string}`;

/** verifyResult against a sim enclave's own evidence; the failing checks' codes, in order. */
export async function resultCodesFor(
  enclave: Enclave,
  result: unknown,
  o: { policy?: Policy; now?: Date; expected?: { requestId: string; nonce: string }; nonceStore?: Set<string> } = {},
) {
  const store = o.nonceStore;
  const r = await verifyResult(result, {
    evidence: enclave.evidence,
    evidenceDigest: enclave.evidenceDigest,
    manifest: enclave.manifest,
    policy: o.policy ?? simPolicy(),
    now: o.now ?? NOW,
    ...(o.expected ? { expected: o.expected } : {}),
    ...(store ? { nonceStore: { has: (n: string) => store.has(n), add: (n: string) => void store.add(n) } } : {}),
  });
  return { ok: r.ok, codes: r.checks.filter((c) => !c.ok).map((c) => c.code), checks: r.checks, body: r.body };
}
