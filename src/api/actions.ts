import { type Request, type Response, Router } from 'express'
import { type Auth, authOf } from './auth.js'
import type { AppContext } from './context.js'

// One function per operation, called by both the HTTP routes and the MCP tools: it validates
// its input, meters through the same gate and answers the body the route sends.

/** What an action gets from a request: path parameters, body and query, unparsed. */
export type ActionInput = {
  params: Record<string, unknown>
  body: unknown
  query: Record<string, unknown>
}

/** What an action answers: the HTTP status and the JSON body (the MCP tool's structured content). */
export type ActionReply = { status: number; body: Record<string, unknown> }

export type Action = (ctx: AppContext, auth: Auth, input: ActionInput) => Promise<ActionReply>

/**
 * Serves actions as express routes under `/v1` (auth already required), each at the method
 * and path of its key (`POST /v1/issues/{id}/claim`) and at `aliases` of that key: the route
 * hands its path parameters, body and query to the action and sends what it answers.
 */
export function actionRouter(
  ctx: AppContext,
  actions: Record<string, Action>,
  aliases: Record<string, string[]> = {},
): Router {
  const r = Router()
  const expressPath = (path: string) => path.replace(/^\/v1/, '').replace(/\{(\w+)\}/g, ':$1')
  for (const [key, action] of Object.entries(actions)) {
    const [method, path] = key.split(' ') as [string, string]
    const paths = [path, ...(aliases[key] ?? [])].map(expressPath)
    r[method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](
      paths,
      async (req: Request, res: Response) => {
        const out = await action(ctx, authOf(res), {
          params: req.params,
          body: req.body,
          query: req.query as Record<string, unknown>,
        })
        res.status(out.status).json(out.body)
      },
    )
  }
  return r
}
