import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MODEL_CARD_PATH, FEATURE_NAMES } from '../../enclave/model/index.ts';
import { generateBorrower } from '../bank/generator.ts';
import { main } from '../../cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'props-model-cli-'));
const card = JSON.parse(readFileSync(DEFAULT_MODEL_CARD_PATH, 'utf8')) as {
  modelHash: string;
  params: number;
  heldOut: { auc: number };
};

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  const code = await main(['model', ...argv]);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

describe('props model', () => {
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('info --json prints the model hash, format, params, features, held-out AUC and provider', async () => {
    const r = await run(['info', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      modelHash: card.modelHash,
      format: 'onnx',
      params: card.params,
      features: FEATURE_NAMES,
      auc: card.heldOut.auc,
      executionProvider: 'cpu',
    });
  });

  it('info with a different expected hash fails verification (exit 1, ERR_MODEL_HASH_MISMATCH)', async () => {
    const r = await run(['info', '--json', '--expected-hash', `0x${'ab'.repeat(32)}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_MODEL_HASH_MISMATCH');
    expect(r.stdout).toBe('');
  });

  it('usage errors exit 2 with the usage on stderr; --help prints it on stdout and exits 0', async () => {
    const bogus = await run(['info', '--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("props model: Unknown option '--bogus'");
    expect(bogus.stderr).toContain('props model train');
    for (const argv of [['--help'], ['info', '--help'], ['train', '-h']]) {
      const help = await run(argv);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('props model score --statement FILE');
      expect(help.stderr).toBe('');
    }
    expect((await run(['info', '--provider', 'tpu'])).code).toBe(2);
    expect((await run(['nope'])).code).toBe(2);
    expect((await run(['score'])).code).toBe(2);
  });

  it('score decides a statement file and refuses a doctored one', async () => {
    const s = generateBorrower('cli', 1).statement;
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(s));
    const r = await run(['score', '--statement', good, '--threshold', '700', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      decision: string;
      threshold: number;
      modelHash: string;
      reasonCodes: string[];
    };
    expect(out.threshold).toBe(700);
    expect(['approve', 'decline']).toContain(out.decision);
    expect(out.modelHash).toBe(card.modelHash);
    s.transactions[0]!.balanceAfter += 1;
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(s));
    const b = await run(['score', '--statement', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('ERR_FEATURES_STATEMENT_INCONSISTENT');
    writeFileSync(bad, '{');
    expect((await run(['score', '--statement', bad])).stderr).toContain('ERR_JSON_MALFORMED');
  });
});
