// The pieces every route module shares: the router factory (strict validation answered with a coded problem), the
// schema helpers that put each route's bodies and refusals in the OpenAPI document, and the query scalars.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { PropsError } from '../../protocol/index.ts';

export type Env = { Variables: { lenderId: string } };
export type Router = OpenAPIHono<Env>;

/** A router whose request validation failures are ERR_INPUT_MALFORMED with the failing target and path. */
export function router(): Router {
  return new OpenAPIHono<Env>({
    defaultHook: (result) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        throw new PropsError('ERR_INPUT_MALFORMED', {
          detail: `${result.target}.${issue?.path.join('.') || '(root)'}: ${issue?.code ?? 'invalid'}`,
        });
      }
      return undefined;
    },
  });
}

export const anyObject = z.record(z.string(), z.unknown());
export const json = <S extends z.ZodType>(schema: S) => ({ content: { 'application/json': { schema } } });
const problem = {
  description: 'RFC 9457 problem details with a stable `code`',
  content: { 'application/problem+json': { schema: anyObject } },
};
export const errors = {
  400: problem,
  401: problem,
  403: problem,
  404: problem,
  409: problem,
  413: problem,
  415: problem,
  422: problem,
  429: problem,
  503: problem,
};
export const ok = (description: string, schema: z.ZodType = anyObject) => ({ description, ...json(schema) });
export const JSON_TYPE = { 'content-type': 'application/json' };

// Decimal digits only: coercion would read an empty value (`?index=`) as 0 and `1e3` or ` 7` as numbers.
export const size = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/)
  .transform(Number)
  .pipe(z.number().max(Number.MAX_SAFE_INTEGER));
export const jobId = z.string().regex(/^0x[0-9a-f]{32}$/);
export const logId = z.string().regex(/^0x[0-9a-f]{64}$/);
