import { mkdtemp, mkdir, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect } from './configfs-tsm.ts';
import { collect as nitroCollect } from './nitro.ts';

// A fake configfs-tsm: a plain directory where the "kernel" files are pre-written into the entry we name.
async function fakeTsm(provider: string, files: Record<string, string | Uint8Array> = {}) {
  const root = await mkdtemp(join(tmpdir(), 'tsm-'));
  const entry = join(root, 'e1');
  await mkdir(entry);
  await writeFile(join(entry, 'provider'), `${provider}\n`);
  await writeFile(join(entry, 'generation'), '1\n');
  await writeFile(join(entry, 'outblob'), Uint8Array.of(4, 0, 2, 0));
  for (const [k, v] of Object.entries(files)) await writeFile(join(entry, k), v);
  return { root, entry };
}

const rd = new Uint8Array(64).fill(7);

describe('configfs-tsm collect', () => {
  it('writes report_data to inblob and reads outblob, provider and auxblob', async () => {
    const { root, entry } = await fakeTsm('sev_guest', { auxblob: Uint8Array.of(9, 9) });
    const r = await collect(rd, { root, entryName: 'e1', cleanup: false });
    expect(r.platform).toBe('sev-snp');
    expect([...r.outblob]).toEqual([4, 0, 2, 0]);
    expect([...(r.auxblob ?? [])]).toEqual([9, 9]);
    expect(new Uint8Array(await readFile(join(entry, 'inblob')))).toEqual(rd);
  });

  it('maps tdx_guest to tdx and removes the entry afterwards', async () => {
    const { root } = await fakeTsm('tdx_guest');
    // rmdir of a non-empty fake entry fails quietly (real configfs entries hold only attributes).
    const r = await collect(rd, { root, entryName: 'e1' });
    expect(r.platform).toBe('tdx');
    expect(r.auxblob).toBeUndefined();
    expect(await readdir(root)).toContain('e1');
  });

  it('refuses an unknown provider', async () => {
    const { root } = await fakeTsm('arm_cca_guest');
    await expect(collect(rd, { root, entryName: 'e1' })).rejects.toMatchObject({ code: 'ERR_TSM_UNAVAILABLE' });
  });

  it('refuses an empty outblob', async () => {
    const { root } = await fakeTsm('tdx_guest', { outblob: new Uint8Array() });
    await expect(collect(rd, { root, entryName: 'e1' })).rejects.toMatchObject({ code: 'ERR_TSM_FAILED' });
  });

  it('reports a missing configfs-tsm as unavailable', async () => {
    await expect(collect(rd, { root: '/proc/nonexistent/tsm' })).rejects.toMatchObject({ code: 'ERR_TSM_UNAVAILABLE' });
  });

  it('rejects report_data that is not 64 bytes', async () => {
    await expect(collect(new Uint8Array(32), { root: '/tmp' })).rejects.toBeInstanceOf(RangeError);
  });

  it('nitro collect is a documented stub', async () => {
    await expect(nitroCollect(rd)).rejects.toMatchObject({ code: 'ERR_PLATFORM_COLLECT_UNAVAILABLE' });
  });
});
