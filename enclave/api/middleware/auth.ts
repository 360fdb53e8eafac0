// Bearer authentication: lenders by API key (stored only as its SHA-256) under the per-lender rate, shared by every
// instance on the store; the admin by a token compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { PropsError, sha256Digest, toHex, utf8, type Hex } from '../../../protocol/index.ts';
import type { ServiceDeps } from '../deps.ts';
import type { Env } from '../http.ts';

// The two SHA-256s of every scoring request (the API key's, the idempotency request hash) go through hash-wasm, not
// node:crypto: each `createHash` is a native object with a weak handle that the next scavenge must process (about a
// tenth of each scavenge's pause under load, `--trace-gc-nvp`: heap.external_weak_global_handles), and noble's JS
// SHA-256 costs twice the time. Same digests.
export const hashKey = (key: string): Hex => toHex(sha256Digest(utf8(key)));

type Middleware = (c: Context<Env>, next: () => Promise<void>) => Promise<void>;

export function lenderAuth(deps: ServiceDeps): Middleware {
  // Lenders are never changed or deleted once created, so a key's lender may be remembered.
  const lenders = new Map<string, { id: string; rate: number }>();
  return async (c, next) => {
    const h = c.req.header('authorization');
    if (!h) throw new PropsError('ERR_AUTH_MISSING');
    const m = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(h);
    if (!m?.[1]) throw new PropsError('ERR_AUTH_INVALID');
    const keyHash = hashKey(m[1]);
    let lender = lenders.get(keyHash);
    if (!lender) {
      const row = await deps.store.lenderByKeyHash(keyHash);
      if (!row) throw new PropsError('ERR_AUTH_INVALID');
      lender = { id: row.id, rate: row.ratePerSecond };
      if (lenders.size >= 65_536) lenders.clear();
      lenders.set(keyHash, lender);
    }
    // An embedded store answers at once (no await: no extra turn per request); a shared one after its round trip.
    const allowed = deps.store.takeRequest(lender.id, lender.rate, deps.clock().getTime());
    if (!(typeof allowed === 'boolean' ? allowed : await allowed)) throw new PropsError('ERR_RATE_LIMITED');
    c.set('lenderId', lender.id);
    await next();
  };
}

export function adminAuth(deps: ServiceDeps): Middleware {
  return async (c, next) => {
    const h = c.req.header('authorization');
    if (!h) throw new PropsError('ERR_AUTH_MISSING');
    const m = /^Bearer (\S{16,256})$/.exec(h);
    const got = Buffer.from(hashKey(m?.[1] ?? ''));
    const want = Buffer.from(deps.adminTokenHash);
    if (!m || got.length !== want.length || !timingSafeEqual(got, want)) throw new PropsError('ERR_AUTH_FORBIDDEN');
    await next();
  };
}
