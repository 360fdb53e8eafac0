// The transparency logs: every instance serves heads and proofs for any log in the store (`?log=` its id; default this
// instance's own), and signs its own log's head as a registry checkpoint for a relayer to post.
import { createRoute, z } from '@hono/zod-openapi';
import { LRUCache } from 'lru-cache';
import {
  address,
  chainKeyId,
  checkpointDigest,
  fromHex,
  PropsError,
  propsDomain,
  type Hex,
} from '../../../protocol/index.ts';
import type { ApiContext } from '../context.ts';
import { errors, JSON_TYPE, logId, ok, router, size } from '../http.ts';

export function logRoutes({ deps }: ApiContext) {
  const { enclave, logs } = deps;
  const r = router();
  const viewOf = (id: string | undefined) => logs.view(id ?? logs.own.id);

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/logs',
      responses: { 200: ok("this instance's log id (`own`) and every log id in the store") },
    }),
    async (c) => c.json({ own: logs.own.id, logs: await logs.ids() }, 200),
  );
  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/log/head',
      request: { query: z.strictObject({ log: logId.optional() }) },
      responses: { 200: ok('the signed tree head'), ...errors },
    }),
    async (c) => {
      const head = await (await viewOf(c.req.valid('query').log)).head();
      if (!head) throw new PropsError('ERR_LOG_HEAD_PENDING');
      return c.json(head, 200);
    },
  );
  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/log/inclusion',
      request: { query: z.strictObject({ index: size, treeSize: size, log: logId.optional() }) },
      responses: { 200: ok('RFC 9162 inclusion proof'), ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json((await viewOf(q.log)).inclusion(q.index, q.treeSize), 200);
    },
  );
  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/log/consistency',
      request: { query: z.strictObject({ oldSize: size, newSize: size, log: logId.optional() }) },
      responses: { 200: ok('RFC 9162 consistency proof'), ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json((await viewOf(q.log)).consistency(q.oldSize, q.newSize), 200);
    },
  );

  // The log's current head as a registry checkpoint: the EIP-712 Checkpoint(keyId, treeSize, root) under the named
  // registry's domain, signed by the enclave's on-chain key. Anyone relays it (postCheckpoint); the log's results are
  // then paid by inclusion proof at that size (releaseWithProof), batched ones included. The enclave vouches only for
  // its own log's head: which registry a caller names changes nothing it asserts. One signature per registry and size.
  const checkpoints = new LRUCache<string, { treeSize: number; body: string }>({ max: 64 });
  const chainId = size.pipe(z.number().positive());
  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/log/checkpoint',
      request: { query: z.strictObject({ chainId, registry: address }) },
      responses: {
        200: ok("this instance's log head as a registry checkpoint, signed by the enclave's on-chain key"),
        ...errors,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const signer = enclave.keys.chainSigner;
      // The registry verifies checkpoints with P-256 (P256VERIFY) only.
      if (signer.scheme !== 'p256')
        throw new PropsError('ERR_CHAIN_KEY_INVALID', { detail: 'checkpoints need a P-256 on-chain key' });
      const treeSize = logs.own.size();
      // The registry takes only growing heads, from a first one of at least one leaf.
      if (treeSize === 0) throw new PropsError('ERR_LOG_INDEX_OUT_OF_RANGE', { detail: 'empty log' });
      const key = `${q.chainId}:${q.registry.toLowerCase()}`;
      const cached = checkpoints.get(key);
      if (cached?.treeSize === treeSize) return c.body(cached.body, 200, JSON_TYPE) as never;
      const root = logs.own.rootAt(treeSize);
      const keyId = chainKeyId(signer.publicKey);
      const digest = checkpointDigest(propsDomain(q.chainId, q.registry as Hex), {
        keyId,
        treeSize: BigInt(treeSize),
        root,
      });
      const signature = await signer.signDigest(fromHex(digest, 32));
      const body = JSON.stringify({
        keyId,
        publicKey: signer.publicKey,
        chainId: q.chainId,
        registry: q.registry,
        treeSize,
        root,
        signature,
      });
      checkpoints.set(key, { treeSize, body });
      return c.body(body, 200, JSON_TYPE) as never;
    },
  );
  return r;
}
