import { randomUUID } from 'node:crypto'
import type { Readable, Writable } from 'node:stream'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { authenticate } from '../api/auth.js'
import type { AppContext } from '../api/context.js'
import { UnauthorizedError } from '../api/keys.js'
import { createMcpServer, resourceUris } from './server.js'
import { createBillingWatch, subscriptionHooks } from './watch.js'

/**
 * MCP over stdio for a local agent (`tollgate mcp --key …`): the tools and resources of `/mcp`,
 * through the same domain functions and meter, as the holder of `key`. The key is checked at
 * start and again on every request, so a key revoked mid-session is refused from then on.
 * Resolves `closed` when the client closes stdin.
 */
export async function serveStdio(
  ctx: AppContext,
  key: string,
  io: { stdin?: Readable; stdout?: Writable } = {},
) {
  const first = await authenticate(ctx.db, key)
  const watch = createBillingWatch(ctx)
  const hooks = subscriptionHooks(watch, first.orgId, () => {
    void server.sendResourceUpdated({ uri: resourceUris.billing }).catch(() => undefined)
  })
  const server = createMcpServer(ctx, {
    ...hooks,
    authOf: () =>
      authenticate(ctx.db, key).catch((e: unknown) => {
        if (e instanceof UnauthorizedError)
          throw new McpError(ErrorCode.InvalidRequest, `UNAUTHORIZED: ${e.message}`)
        throw e
      }),
  })
  const stdin = io.stdin ?? process.stdin
  const transport = new StdioServerTransport(stdin, io.stdout ?? process.stdout)
  // Request ids restart at 0 in every client: the session id keeps a call's default
  // idempotency key (the MCP request id) apart from another process's call with the same id.
  Object.assign(transport, { sessionId: randomUUID() })
  let done!: () => void
  const closed = new Promise<void>((r) => (done = r))
  server.onclose = done
  stdin.once('end', () => void server.close())
  await server.connect(transport)
  return {
    closed,
    close: async () => {
      hooks.stop()
      watch.close()
      await server.close()
    },
  }
}
