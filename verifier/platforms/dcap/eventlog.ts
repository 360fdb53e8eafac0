// TDX event logs replayed to RTMR0-3: the ACPI CCEL (TCG PC Client crypto-agile log, SHA-384) and dstack's JSON
// log. An event log is untrusted until its replay reproduces the quote's RTMRs exactly.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PropsError, bytesEqual, parseWith, toHex, type Hex } from '../../../protocol/index.ts';

export const RTMR_COUNT = 4;
export const SHA384_SIZE = 48;

// TCG PC Client Platform Firmware Profile §10.2: TCG_PCR_EVENT (SHA-1 header event) and TCG_PCR_EVENT2.
export const EV_PCR_INDEX = 0; // u32
export const EV_TYPE = 4; // u32
export const EV1_DIGEST = 8; // 20 bytes (SHA-1), header event only
export const EV1_EVENT_SIZE = 28; // u32
export const EV1_EVENT = 32;
export const EV2_DIGEST_COUNT = 8; // u32, then {u16 algId, digest}[]
export const TPM_ALG_SHA1 = 0x0004;
export const TPM_ALG_SHA256 = 0x000b;
export const TPM_ALG_SHA384 = 0x000c;
export const TPM_ALG_SHA512 = 0x000d;
export const EV_NO_ACTION = 0x00000003;
/** CCEL MR index 0 is MRTD; 1..4 are RTMR0..3. */
export const CCEL_MR_RTMR0 = 1;
/** dstack runtime events (RTMR3): digest = SHA-384(u32le(type) || ":" || name || ":" || payload). */
export const DSTACK_RUNTIME_EVENT = 0x08000001;

export type ReplayedEvent = { rtmr: number; type: number; digest: Hex; name?: string };
export type Replay = { rtmrs: [Hex, Hex, Hex, Hex]; events: ReplayedEvent[] };

const DIGEST_SIZES: Record<number, number> = {
  [TPM_ALG_SHA1]: 20,
  [TPM_ALG_SHA256]: 32,
  [TPM_ALG_SHA384]: 48,
  [TPM_ALG_SHA512]: 64,
};

function extend(regs: Uint8Array[], i: number, digest: Uint8Array): void {
  regs[i] = new Uint8Array(
    createHash('sha384')
      .update(regs[i] as Uint8Array)
      .update(digest)
      .digest(),
  );
}

const zeros = () => Array.from({ length: RTMR_COUNT }, () => new Uint8Array(SHA384_SIZE));
const out = (regs: Uint8Array[], events: ReplayedEvent[]): Replay => ({
  rtmrs: regs.map((r) => toHex(r)) as Replay['rtmrs'],
  events,
});

/** Replays a CCEL (ACPI CCEL table's log area) to RTMR0-3. Stops at the first all-0xFF / all-zero header. */
export function replayCcel(log: Uint8Array): Replay {
  const dv = new DataView(log.buffer, log.byteOffset, log.byteLength);
  const need = (o: number, n: number) => {
    if (o + n > log.length) throw new PropsError('ERR_EVENT_LOG_MALFORMED', { detail: `truncated at ${o}` });
  };
  need(0, EV1_EVENT);
  const headerSize = dv.getUint32(EV1_EVENT_SIZE, true);
  need(EV1_EVENT, headerSize);
  let o = EV1_EVENT + headerSize;
  const regs = zeros();
  const events: ReplayedEvent[] = [];
  while (o + EV2_DIGEST_COUNT + 4 <= log.length) {
    const mr = dv.getUint32(o + EV_PCR_INDEX, true);
    const type = dv.getUint32(o + EV_TYPE, true);
    if (mr === 0xffffffff || (mr === 0 && type === 0)) break; // end of log (unused area)
    const count = dv.getUint32(o + EV2_DIGEST_COUNT, true);
    if (count < 1 || count > 8) throw new PropsError('ERR_EVENT_LOG_MALFORMED', { detail: `digest count at ${o}` });
    let p = o + EV2_DIGEST_COUNT + 4;
    let sha384: Uint8Array | undefined;
    for (let k = 0; k < count; k++) {
      need(p, 2);
      const alg = dv.getUint16(p, true);
      const size = DIGEST_SIZES[alg];
      if (size === undefined) throw new PropsError('ERR_EVENT_LOG_MALFORMED', { detail: `digest algorithm ${alg}` });
      need(p + 2, size);
      if (alg === TPM_ALG_SHA384) sha384 = log.slice(p + 2, p + 2 + size);
      p += 2 + size;
    }
    need(p, 4);
    const eventSize = dv.getUint32(p, true);
    need(p + 4, eventSize);
    p += 4 + eventSize;
    if (type !== EV_NO_ACTION) {
      if (!sha384) throw new PropsError('ERR_EVENT_LOG_MALFORMED', { detail: 'event without SHA-384 digest' });
      const idx = mr - CCEL_MR_RTMR0;
      if (idx < 0 || idx >= RTMR_COUNT) throw new PropsError('ERR_EVENT_LOG_MALFORMED', { detail: `MR index ${mr}` });
      extend(regs, idx, sha384);
      events.push({ rtmr: idx, type, digest: toHex(sha384) });
    }
    o = p;
  }
  return out(regs, events);
}

const dstackEvent = z.object({
  imr: z.number().int().min(0).max(3),
  event_type: z.number().int().min(0).max(0xffffffff),
  /** Newer dstack leaves it empty for runtime events: their digest is then computed from name and payload. */
  digest: z.string().regex(/^([0-9a-fA-F]{96})?$/),
  event: z.string(),
  event_payload: z.string().regex(/^([0-9a-fA-F]{2})*$/),
});
const dstackLog = z.array(dstackEvent).max(10_000);

/** Replays dstack's JSON event log; runtime events' digests are recomputed from their name and payload. */
export function replayDstack(input: unknown): Replay {
  let v = input;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch (e) {
      throw new PropsError('ERR_EVENT_LOG_MALFORMED', { detail: 'not JSON', cause: e });
    }
  }
  const log = parseWith(dstackLog, v, 'ERR_EVENT_LOG_MALFORMED');
  const regs = zeros();
  const events: ReplayedEvent[] = [];
  for (const [i, e] of log.entries()) {
    let digest = Buffer.from(e.digest, 'hex');
    if (e.event_type === DSTACK_RUNTIME_EVENT) {
      const type = Buffer.alloc(4);
      type.writeUInt32LE(DSTACK_RUNTIME_EVENT);
      const want = createHash('sha384')
        .update(type)
        .update(':')
        .update(e.event, 'utf8')
        .update(':')
        .update(Buffer.from(e.event_payload, 'hex'))
        .digest();
      if (digest.length === 0) digest = want;
      else if (!bytesEqual(want, digest))
        throw new PropsError('ERR_EVENT_LOG_MISMATCH', { detail: `runtime event ${i} digest` });
    } else if (digest.length === 0) {
      throw new PropsError('ERR_EVENT_LOG_MALFORMED', { detail: `event ${i} without digest` });
    }
    extend(regs, e.imr, digest);
    events.push({ rtmr: e.imr, type: e.event_type, digest: toHex(digest), ...(e.event ? { name: e.event } : {}) });
  }
  return out(regs, events);
}

/** Accepts raw CCEL bytes or dstack JSON (bytes of text starting with "[" or a parsed array). */
export function replayEventLog(log: Uint8Array | unknown): Replay {
  if (log instanceof Uint8Array) {
    let i = 0;
    while (i < log.length && (log[i] === 0x20 || log[i] === 0x0a || log[i] === 0x0d || log[i] === 0x09)) i++;
    if (log[i] === 0x5b /* [ */) return replayDstack(new TextDecoder().decode(log));
    return replayCcel(log);
  }
  return replayDstack(log);
}

/** Replays and compares to the quote's RTMRs; throws ERR_EVENT_LOG_MISMATCH naming the first differing RTMR. */
export function checkEventLog(log: Uint8Array | unknown, rtmrs: readonly string[]): Replay {
  const r = replayEventLog(log);
  r.rtmrs.forEach((v, i) => {
    if (v !== rtmrs[i]) throw new PropsError('ERR_EVENT_LOG_MISMATCH', { detail: `rtmr${i}` });
  });
  return r;
}
