import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type RequestId,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { type Actions, runAction } from '../api/actions.js'
import { agentActions } from '../api/agentActions.js'
import type { Auth } from '../api/auth.js'
import type { AppContext } from '../api/context.js'
import { errorReply } from '../api/errorHandler.js'
import { idempotentCall, sessionKeys } from '../api/idempotency.js'
import { queueActions } from '../api/queueActions.js'
import { x402ContextFor } from '../api/x402Routes.js'
import { formatUsd, getBillingSummary } from '../ledger/index.js'
import { paymentRequired } from '../x402/paymentRequired.js'
import { billingStatus, billingTools } from './billingTools.js'
import { type ActionTool, actionTools } from './tools.js'

const actions: Actions = { ...agentActions, ...queueActions }
const toolsByName = new Map<string, ActionTool>(actionTools.map((t) => [t.name, t]))
const billingByName = new Map(billingTools.map((t) => [t.name, t]))
const jsonSchema = (s: z.ZodObject) =>
  z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as {
    type: 'object'
    [k: string]: unknown
  }
const schemas = new Map(
  [...actionTools, ...billingTools].map((t) => [t.name, jsonSchema(t.input)] as const),
)

export const resourceUris = { billing: 'tollgate://billing', rateCard: 'tollgate://rate-card' }

/** What a session's server needs from its transport: who calls, and resource subscriptions. */
export type SessionHooks = {
  /**
   * The caller of this MCP request: over HTTP, the request that carried it; over stdio, the
   * key the process was started with, checked again (a revoked key is refused mid-session).
   */
  authOf: (authInfo: unknown) => Auth | Promise<Auth>
  subscribe: (uri: string) => void
  unsubscribe: (uri: string) => void
  /** After a metered call: the org's billing state may have changed. */
  metered: (orgId: string) => void
}

/** JSON as the HTTP route sends it (dates as RFC 3339 text). */
const asJson = (body: object): Record<string, unknown> => JSON.parse(JSON.stringify(body))

const ok = (body: object, replayed = false): CallToolResult => {
  const structured = asJson(body)
  return {
    content: [{ type: 'text', text: JSON.stringify(structured) }],
    structuredContent: structured,
    ...(replayed ? { _meta: { 'tollgate/replayed': true } } : {}),
  }
}

/** The MCP request id as an idempotency key, scoped to the session (ids repeat across them). */
const requestKey = (sessionId: string | undefined, id: RequestId) => {
  const raw = `mcp:${sessionId ?? 'none'}:${String(id)}`
  return /^[A-Za-z0-9_.:-]{1,255}$/.test(raw)
    ? raw
    : `mcp:${sessionId ?? 'none'}:${Buffer.from(String(id)).toString('base64url').slice(0, 180)}`
}

/**
 * The x402 top-up an agent may pay when its org cannot: the requirements `PAYMENT-REQUIRED`
 * carries over HTTP, for `POST /v1/usage/check` (any write pays a top-up before it runs; that
 * one meters nothing). None on a node without a chain, or while the chain cannot be read.
 */
async function topUpOffer(ctx: AppContext) {
  const x = x402ContextFor(ctx)
  if (!x) return undefined
  return await paymentRequired(x, {
    url: `${ctx.config.product.publicBaseUrl}/v1/usage/check`,
    description: 'top up the prepaid balance of this org',
  }).catch(() => undefined)
}

/**
 * An error as a tool error the agent can act on: the API's envelope (same code and message as
 * over HTTP) as structured content; a billing refusal carries the spec's text with the re-up
 * link, its reason (and, for an org that cannot pay, the x402 top-up it may pay), and for the
 * monthly limit its scope and when it resets.
 */
async function toolError(
  ctx: AppContext,
  auth: Auth,
  tool: string,
  thrown: unknown,
): Promise<CallToolResult> {
  const { status, body } = errorReply(thrown, ctx.log, { method: 'MCP', path: tool })
  const { code, message, ...details } = body.error
  let text = message
  let structured: Record<string, unknown> = { code, message, http_status: status, ...details }
  if (Array.isArray(details.issues) && details.issues.length > 0) {
    // Many clients hand the model only the text: it names each field and what is wrong with it.
    const issues = details.issues as { path: string[]; message: string }[]
    text = `${message}: ${issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ')}`
  } else if (code === 'BILLING_INACTIVE') {
    text = `${message}\nRe-up link: ${String(details.reup_url)}`
    const offer = await topUpOffer(ctx)
    if (offer) {
      structured = { ...structured, x402: offer }
      text += `\nOr top up over x402: sign the requirements in this error's x402 field and POST ${offer.resource.url} with PAYMENT-SIGNATURE.`
    }
  } else if (code === 'SPEND_CAP_REACHED') {
    // Whose cap (an API key's budget, the org's, or the signed on-chain window) and when it
    // resets; the on-chain window's reset is its period's end.
    let reset = (details.resets_at as string | null | undefined) ?? null
    if (reset === null && details.scope === 'onchain_window')
      reset =
        (
          await getBillingSummary(ctx.db, auth.orgId).catch(() => undefined)
        )?.windowEnd?.toISOString() ?? null
    structured = {
      ...structured,
      reason: 'spend_cap',
      scope: details.scope ?? 'onchain_window',
      resets_at: reset,
      reup_url: details.manage_url,
    }
    text = `${message}\nResets at ${reset ?? 'the next period'}. Re-up link: ${String(details.manage_url)}`
  }
  return { isError: true, content: [{ type: 'text', text }], structuredContent: structured }
}

type Extra = Parameters<Parameters<Server['setRequestHandler']>[1]>[1]

/**
 * Registers `handler` for `schema`'s method on `server`. A request that does not match the
 * schema (params not an object, a tool name that is not a string, arguments that are not a
 * record) is answered with JSON-RPC invalid params, where the SDK's own parse would throw an
 * internal error.
 */
function handle<S extends z.ZodObject<{ method: z.ZodLiteral<string> }>>(
  server: Server,
  schema: S,
  handler: (req: z.output<S>, extra: Extra) => object | Promise<object>,
) {
  const method = schema.shape.method.value
  server.setRequestHandler(z.object({ method: z.literal(method) }).loose(), (req, extra) => {
    const parsed = schema.safeParse(req)
    if (!parsed.success)
      throw new McpError(
        ErrorCode.InvalidParams,
        `invalid ${method} request: ${z.prettifyError(parsed.error).slice(0, 500)}`,
      )
    return handler(parsed.data, extra) as never
  })
}

/** One MCP server (one per session): the spec's actions and the billing tools, and resources. */
export function createMcpServer(ctx: AppContext, hooks: SessionHooks): Server {
  const server = new Server(
    { name: ctx.config.product.name, version: '1.0.0' },
    {
      capabilities: { tools: {}, resources: { subscribe: true } },
      instructions:
        'Reads are free; metered writes state their price. billing_status tells you where your org stands; a refused write returns the re-up link.',
    },
  )

  handle(server, ListToolsRequestSchema, () => ({
    // Descriptions are rendered per listing, from the rate card this process meters with.
    tools: [
      ...actionTools.map((t) => ({
        name: t.name,
        description: t.description(ctx.config.rateCard),
        inputSchema: schemas.get(t.name)!,
        annotations: { readOnlyHint: !t.write, idempotentHint: true },
      })),
      ...billingTools.map((t) => ({
        name: t.name,
        description: t.description,
        inputSchema: schemas.get(t.name)!,
        annotations: { readOnlyHint: true },
      })),
    ],
  }))

  // The default keys (request ids) of this session's writes: see `sessionKeys`.
  const requestKeys = sessionKeys()
  handle(server, CallToolRequestSchema, async (req, extra) => {
    const auth = await hooks.authOf(extra.authInfo)
    const name = req.params.name
    const args = req.params.arguments ?? {}
    const billing = billingByName.get(name)
    const tool = toolsByName.get(name)
    if (!billing && !tool) throw new McpError(ErrorCode.InvalidParams, `no tool ${name}`)
    try {
      if (billing) return ok(await billing.run(ctx, auth, billing.input.parse(args)))
      const parsed = tool!.input.parse(args) as Record<string, unknown>
      const routed = tool!.route(parsed)
      const input = { params: routed.params, body: routed.body, query: routed.query }
      const run = () => runAction(ctx, auth, { actions, key: routed.key, input })
      const [method, pattern] = routed.key.split(' ') as [string, string]
      if (method === 'GET') return ok((await run()).body)
      // A write: once per idempotency key, as over HTTP (the same key, path and body over
      // either transport is one request).
      const path = pattern.replace(/\{(\w+)\}/g, (_, p: string) =>
        encodeURIComponent(routed.params[p] ?? ''),
      )
      const given = parsed.idempotency_key as string | undefined
      const out = await idempotentCall(
        ctx.db,
        {
          orgId: auth.orgId,
          key: given ?? requestKey(extra.sessionId, extra.requestId),
          method,
          path,
          body: routed.body ?? null,
          // A given key is shared with HTTP and other sessions; a request id is this session's.
          ...(given === undefined ? { keys: requestKeys } : {}),
        },
        async () => {
          const r = await run()
          return { status: r.status, body: asJson(r.body) }
        },
      )
      hooks.metered(auth.orgId)
      return ok(out.body, out.replayed)
    } catch (e) {
      return await toolError(ctx, auth, name, e)
    }
  })

  handle(server, ListResourcesRequestSchema, () => ({
    resources: [
      {
        uri: resourceUris.billing,
        name: 'billing',
        title: 'Your org’s billing',
        description: 'The billing_status view; subscribe to hear when the org’s state changes.',
        mimeType: 'application/json',
      },
      {
        uri: resourceUris.rateCard,
        name: 'rate-card',
        title: 'Rate card',
        description: 'The price of every metered action, in micro-credits and dollars.',
        mimeType: 'application/json',
      },
    ],
  }))

  handle(server, ReadResourceRequestSchema, async (req, extra) => {
    const auth = await hooks.authOf(extra.authInfo)
    const uri = req.params.uri
    let body: object
    if (uri === resourceUris.billing) body = await billingStatus(ctx, auth)
    else if (uri === resourceUris.rateCard) body = rateCardView(ctx)
    else throw new McpError(ErrorCode.InvalidParams, `no resource ${uri.slice(0, 200)}`)
    return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(body) }] }
  })

  handle(server, SubscribeRequestSchema, (req) => {
    if (req.params.uri !== resourceUris.billing && req.params.uri !== resourceUris.rateCard)
      throw new McpError(ErrorCode.InvalidParams, `no resource ${req.params.uri.slice(0, 200)}`)
    hooks.subscribe(req.params.uri)
    return {}
  })
  handle(server, UnsubscribeRequestSchema, (req) => {
    hooks.unsubscribe(req.params.uri)
    return {}
  })
  return server
}

/** The rate card as `tollgate://rate-card` shows it. */
function rateCardView(ctx: AppContext) {
  const card = ctx.config.rateCard
  return {
    version: card.version,
    unit: 'micro-credit (1,000,000 = $1.00)',
    free: 'every read, an empty next_issue poll, an empty next_batch claim, and the billing tools',
    actions: Object.fromEntries(
      Object.entries(card.prices).map(([action, micros]) => [
        action,
        { micros: micros.toString(), usd: formatUsd(micros) },
      ]),
    ),
  }
}
