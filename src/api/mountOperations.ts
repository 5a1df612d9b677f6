import type { Request, Response, Router } from 'express'
import { requireOwner } from './auth.js'
import { type Operation, operationKey } from './operations/operation.js'

/** What a handler receives: the request's body, query and params as its operation's schemas parse them. */
export type OperationInput = {
  body: unknown
  query: unknown
  params: Record<string, unknown>
}

/** Serves one operation: validation and the owner check are done before it runs. */
export type OperationHandler = (
  req: Request,
  res: Response,
  input: OperationInput,
) => Promise<void> | void

/** Handlers by `METHOD /path`, the operation table's key. */
export type OperationHandlers = Partial<Record<ReturnType<typeof operationKey>, OperationHandler>>

/**
 * Registers on `router` (mounted at `/v1`) every operation of `table` that `handlers` serves:
 * the path from the table, `requireOwner` for an owner's operation, and the body, query and
 * params parsed with the table's own schemas, so what is documented is what is checked.
 *
 * @example
 * mountOperations(r, operations, { 'POST /v1/billing/mode': async (_req, res, { body }) => … })
 */
export function mountOperations(
  router: Router,
  table: readonly Operation[],
  handlers: OperationHandlers,
): void {
  for (const op of table) {
    const handle = handlers[operationKey(op)]
    if (!handle) continue
    const path = op.path.replace(/^\/v1/, '').replace(/\{(\w+)\}/g, ':$1')
    const guards = op.auth === 'owner' ? [requireOwner] : []
    router[op.method](path, ...guards, async (req: Request, res: Response) => {
      const params: Record<string, unknown> = { ...req.params }
      for (const [name, schema] of Object.entries(op.params ?? {}))
        params[name] = schema.parse(req.params[name])
      await handle(req, res, {
        body: op.body ? op.body.parse(req.body) : undefined,
        query: op.query ? op.query.parse(req.query) : undefined,
        params,
      })
    })
  }
}
