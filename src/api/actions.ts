import { Router } from 'express'
import { type Auth, authOf } from './auth.js'
import type { AppContext } from './context.js'
import { operationOf } from './operations.js'
import {
  type OperationInput,
  type ParsedInput,
  parseOperationInput,
  type RawInput,
} from './parseOperationInput.js'
import { serve, type V1OperationKey } from './serve.js'

// One function per operation, called by both the HTTP routes and the MCP tools: it takes its
// input parsed by its operation's schemas, meters through the same gate and answers the body
// the route sends.

/** What an action answers: the HTTP status and the JSON body (the MCP tool's structured content). */
export type ActionReply = { status: number; body: Record<string, unknown> }

/** The action of the operation `K`, its input typed from the operation's schemas. */
export type Action<K extends V1OperationKey> = (
  ctx: AppContext,
  auth: Auth,
  input: OperationInput<K>,
) => Promise<ActionReply>

/** Actions keyed by their operation (`POST /v1/issues/{id}/claim`). */
export type Actions = { [K in V1OperationKey]?: Action<K> }

/** An action of any operation, for the code that looks one up by a key it reads at run time. */
type AnyAction = (ctx: AppContext, auth: Auth, input: ParsedInput) => Promise<ActionReply>

/**
 * Serves actions as express routes under `/v1` (auth already required): each operation of the
 * table at its path and aliases (`serve`), handing its parsed input to the action and sending
 * what it answers.
 *
 * @example
 * r.use(actionRouter(ctx, queueActions))
 */
export function actionRouter(ctx: AppContext, actions: Actions): Router {
  const r = Router()
  for (const key of Object.keys(actions) as V1OperationKey[]) {
    const action = actions[key] as AnyAction
    serve(ctx, r, key, async (_req, res, input) => {
      const out = await action(ctx, authOf(res), input as ParsedInput)
      res.status(out.status).json(out.body)
    })
  }
  return r
}

export type RunActionParameters = { actions: Actions; key: string; input: RawInput }

/**
 * Runs the action of `key` on a raw input (the MCP tools' way in): parsed with its operation's
 * schemas first, exactly as its route parses it.
 *
 * @example
 * await runAction(ctx, auth, { actions: queueActions, key: 'GET /v1/queue', input })
 */
export function runAction(
  ctx: AppContext,
  auth: Auth,
  { actions, key, input }: RunActionParameters,
): Promise<ActionReply> {
  const action = actions[key as V1OperationKey] as AnyAction
  return action(ctx, auth, parseOperationInput(operationOf(key), input))
}
