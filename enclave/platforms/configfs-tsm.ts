// Enclave side: collect a TDX quote or SEV-SNP report through Linux configfs-tsm
// (Documentation/ABI/testing/configfs-tsm): write report_data to `inblob`, read `outblob` (+ `auxblob`, `provider`),
// comparing `generation` before and after so a concurrent writer cannot hand us a report for other data.
import { mkdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PropsError, type Platform } from '../../protocol/index.ts';

export const DEFAULT_TSM_ROOT = '/sys/kernel/config/tsm/report';
export const REPORT_DATA_SIZE = 64;
/** configfs-tsm provider names → our platforms. */
export const TSM_PROVIDERS: Readonly<Record<string, Platform>> = { tdx_guest: 'tdx', sev_guest: 'sev-snp' };

export type CollectParameters = {
  /** configfs-tsm report directory (injectable for tests). */
  root?: string;
  /** Name of the report entry to create; random by default. */
  entryName?: string;
  /** Remove the entry afterwards (default true; configfs entries are cheap to recreate). */
  cleanup?: boolean;
};

export type CollectReturnType = {
  platform: Platform;
  provider: string;
  /** The quote (TDX) or attestation report (SEV-SNP). */
  outblob: Uint8Array;
  /** SEV-SNP certificate table (VCEK/ASK/ARK) when the host provides it. */
  auxblob?: Uint8Array;
  generation: number;
};

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PropsError('ERR_TSM_FAILED', { detail: 'read', cause: e });
  }
}

async function readGeneration(dir: string): Promise<number> {
  const g = await readOptional(join(dir, 'generation'));
  const n = g === undefined ? NaN : Number.parseInt(new TextDecoder().decode(g).trim(), 10);
  if (!Number.isInteger(n)) throw new PropsError('ERR_TSM_FAILED', { detail: 'generation' });
  return n;
}

export async function collect(reportData: Uint8Array, params: CollectParameters = {}): Promise<CollectReturnType> {
  if (!(reportData instanceof Uint8Array)) throw new TypeError('reportData: expected Uint8Array');
  if (reportData.length !== REPORT_DATA_SIZE)
    throw new RangeError(`reportData: expected ${REPORT_DATA_SIZE} bytes, got ${reportData.length}`);
  const root = params.root ?? DEFAULT_TSM_ROOT;
  const dir = join(root, params.entryName ?? `props-${randomUUID()}`);
  // Never create the root itself: its absence means this kernel/guest has no configfs-tsm.
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat?.isDirectory())
    throw new PropsError('ERR_TSM_UNAVAILABLE', { detail: 'no configfs-tsm report directory' });
  try {
    await mkdir(dir);
  } catch (e) {
    // An existing entry may be reused: the generation check below catches interleaved writers.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new PropsError('ERR_TSM_UNAVAILABLE', { detail: 'cannot create report entry', cause: e });
  }
  try {
    try {
      await writeFile(join(dir, 'inblob'), reportData);
    } catch (e) {
      throw new PropsError('ERR_TSM_FAILED', { detail: 'write inblob', cause: e });
    }
    const before = await readGeneration(dir);
    const outblob = await readOptional(join(dir, 'outblob'));
    if (!outblob || outblob.length === 0) throw new PropsError('ERR_TSM_FAILED', { detail: 'empty outblob' });
    const providerBytes = await readOptional(join(dir, 'provider'));
    const provider = providerBytes ? new TextDecoder().decode(providerBytes).trim() : '';
    const platform = TSM_PROVIDERS[provider];
    if (!platform) throw new PropsError('ERR_TSM_UNAVAILABLE', { detail: `provider "${provider.slice(0, 32)}"` });
    const auxblob = await readOptional(join(dir, 'auxblob'));
    // Someone else wrote inblob between our write and read: the report may bind their data, not ours.
    if ((await readGeneration(dir)) !== before)
      throw new PropsError('ERR_TSM_FAILED', { detail: 'concurrent use of the report entry' });
    return { platform, provider, outblob, ...(auxblob?.length ? { auxblob } : {}), generation: before };
  } finally {
    if (params.cleanup ?? true) await rmdir(dir).catch(() => undefined);
  }
}
