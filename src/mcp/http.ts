import { randomUUID } from 'node:crypto'
import type { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import { type Request, type Response, Router } from 'express'
import { type Auth, authOf, requireAuth } from '../api/auth.js'
import type { AppContext } from '../api/context.js'
import { UnauthorizedError } from '../api/keys.js'
import { createMcpServer, resourceUris } from './server.js'
import { type SessionTransport, sessionTransport } from './sessionTransport.js'
import { createBillingWatch, subscriptionHooks } from './watch.js'

/** A session idle this long is closed (its client initializes a new one). */
const idleMs = 30 * 60_000
/** At most this many open sessions per credential, and in all. */
const perCredential = 1_000
const total = 20_000

type Session = {
  transport: SessionTransport
  server: Server
  credential: string
  orgId: string
  lastSeen: number
  stop: () => void
}

/** A JSON-RPC error answered over HTTP (the transport's own shape for session errors). */
const rpcError = (res: Response, status: number, code: number, message: string) =>
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null })

/**
 * MCP over Streamable HTTP at `/mcp`: one session per `initialize`, bound to the credential
 * that opened it. Every request is authenticated like any `/v1` call (`Authorization: Bearer`
 * API key or session key, never a cookie), so a revoked key is refused mid-session; the
 * session's tools see the caller of the request that carried the call.
 */
export function mcpRouter(ctx: AppContext): Router & { close: () => Promise<void> } {
  const r = Router() as Router & { close: () => Promise<void> }
  const sessions = new Map<string, Session>()
  const watch = createBillingWatch(ctx)
  const auth = requireAuth(ctx.db)

  const close = async (id: string) => {
    const s = sessions.get(id)
    if (!s) return
    sessions.delete(id)
    s.stop()
    await s.server.close().catch(() => undefined)
  }
  const sweep = setInterval(() => {
    const cutoff = Date.now() - idleMs
    for (const [id, s] of sessions) if (s.lastSeen < cutoff) void close(id)
  }, 60_000)
  sweep.unref()
  r.close = async () => {
    clearInterval(sweep)
    watch.close()
    await Promise.all([...sessions.keys()].map(close))
  }

  const open = async (a: Auth): Promise<SessionTransport | undefined> => {
    let mine = 0
    for (const s of sessions.values()) if (s.credential === a.credential) mine++
    if (mine >= perCredential || sessions.size >= total) return undefined
    const session = { credential: a.credential, orgId: a.orgId, lastSeen: Date.now() } as Session
    const hooks = subscriptionHooks(watch, a.orgId, () => {
      void server.sendResourceUpdated({ uri: resourceUris.billing }).catch(() => undefined)
    })
    const server = createMcpServer(ctx, {
      ...hooks,
      authOf: (info) => (info as { extra: { auth: Auth } }).extra.auth,
    })
    const transport = sessionTransport({
      sessionIdGenerator: randomUUID,
      // Plain JSON answers to calls; server notifications go on the client's GET stream.
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        sessions.set(id, session)
      },
    })
    transport.onclose = () => {
      if (transport.sessionId) void close(transport.sessionId)
    }
    Object.assign(session, { transport, server, stop: hooks.stop })
    await server.connect(transport)
    return transport
  }

  r.all('/', async (req: Request, res: Response) => {
    // Bearer only: a browser's cookie never reaches MCP (no cross-site requests to guard).
    if (!req.get('authorization')?.startsWith('Bearer ')) throw new UnauthorizedError()
    // requireAuth rejects (401) when the credential is unknown, revoked or expired.
    await auth(req, res, () => undefined)
    const a = authOf(res)
    const id = req.get('mcp-session-id')
    let transport: SessionTransport | undefined
    if (id !== undefined) {
      const s = sessions.get(id)
      // Another credential's session is as unknown as a closed one.
      if (!s || s.credential !== a.credential)
        return void rpcError(res, 404, -32001, 'Session not found')
      s.lastSeen = Date.now()
      transport = s.transport
    } else if (req.method === 'POST' && isInitializeRequest(req.body)) {
      transport = await open(a)
      if (!transport)
        return void rpcError(
          res,
          429,
          -32000,
          'too many open MCP sessions for this key; close some',
        )
    } else {
      return void rpcError(
        res,
        400,
        -32000,
        'no session: send initialize first (no mcp-session-id)',
      )
    }
    ;(req as Request & { auth?: unknown }).auth = {
      token: '',
      clientId: a.credential,
      scopes: [],
      extra: { auth: a },
    }
    await transport.handleRequest(req, res, req.body)
  })
  return r
}
