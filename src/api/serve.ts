import type { Request, RequestHandler, Response, Router } from 'express'
import { requireOwner } from './auth.js'
import type { AppContext } from './context.js'
import { type OperationKey, operationOf } from './operations.js'
import { requireOperator } from './operatorAuth.js'
import { type OperationInput, parseOperationInput } from './parseOperationInput.js'

/** The operations served under `/v1` (the rest, `/healthz` and `/openapi.json`, by the app). */
export type V1OperationKey = Extract<OperationKey, `${string} /v1/${string}`>

/** Serves one operation: its guard and checks have passed and its input is parsed. */
export type OperationHandler<K extends V1OperationKey> = (
  req: Request,
  res: Response,
  input: OperationInput<K>,
) => Promise<void> | void

/** The guard an operation's `auth` asks for (`member`: the router's `requireAuth` before it). */
const guardOf = (ctx: AppContext, auth: string): RequestHandler[] =>
  auth === 'owner'
    ? [requireOwner]
    : auth === 'operator'
      ? [
          (req, _res, next) => {
            requireOperator(ctx, req)
            next()
          },
        ]
      : []

/**
 * Registers the operation `key` of the table on `router` (mounted at `/v1`): at its path and
 * aliases, behind the guard of its `auth`, then `before` (checks that come first), then its
 * params, body and query parsed with its own schemas, so what is documented is what is checked.
 *
 * @example
 * serve(ctx, r, 'POST /v1/billing/mode', async (_req, res, { body }) => {
 *   res.json(await setBillingMode(ctx.db, { orgId: authOf(res).orgId, mode: body.mode }))
 * })
 */
export function serve<K extends V1OperationKey>(
  ctx: AppContext,
  router: Router,
  key: K,
  handler: OperationHandler<K>,
  before: RequestHandler[] = [],
): void {
  const op = operationOf(key)
  for (const path of [op.path, ...(op.aliases ?? [])])
    router[op.method](
      path.replace(/^\/v1/, '').replace(/\{(\w+)\}/g, ':$1'),
      ...guardOf(ctx, op.auth),
      ...before,
      async (req: Request, res: Response) => {
        const raw = { params: req.params, body: req.body, query: req.query }
        await handler(req, res, parseOperationInput(op, raw, path) as OperationInput<K>)
      },
    )
}
