import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import {
  StreamableHTTPServerTransport,
  type StreamableHTTPServerTransportOptions,
} from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js'

/** A session's transport: the SDK's Streamable HTTP transport, with a direct path for calls. */
export type SessionTransport = Transport & {
  handleRequest: (
    req: IncomingMessage & { auth?: AuthInfo },
    res: ServerResponse,
    body: unknown,
  ) => Promise<void>
}

/**
 * The SDK's `StreamableHTTPServerTransport` in JSON-response mode, with one request shape
 * answered without it: a POST of a single JSON-RPC request (not `initialize`) on the open
 * session, with the headers the SDK requires. The SDK turns every Node request into a Web
 * `Request` and its answer into a Web `Response` and back (about half a millisecond of CPU
 * per call, measured by `npm run bench:mcp`); this path hands the parsed message to the server
 * as the SDK does and writes the server's answer as the SDK would (200, the JSON-RPC response,
 * `Content-Type: application/json`, `mcp-session-id`). Everything else (initialize, batches,
 * notifications, GET streams, DELETE, and every malformed request with its error) goes to the
 * SDK, so behaviour is the SDK's.
 */
export function sessionTransport(options: StreamableHTTPServerTransportOptions): SessionTransport {
  const sdk = new StreamableHTTPServerTransport(options)
  // The direct path's requests awaiting the server's response, by request id.
  const waiting = new Map<RequestId, (response: JSONRPCMessage) => void>()

  const direct = (req: IncomingMessage, body: unknown) => {
    if (req.method !== 'POST' || typeof body !== 'object' || body === null || Array.isArray(body))
      return undefined
    const accept = req.headers.accept ?? ''
    if (!accept.includes('application/json') || !accept.includes('text/event-stream'))
      return undefined
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/json') return undefined
    const version = req.headers['mcp-protocol-version']
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(String(version)))
      return undefined
    if (sdk.sessionId === undefined || req.headers['mcp-session-id'] !== sdk.sessionId)
      return undefined
    const parsed = JSONRPCMessageSchema.safeParse(body)
    if (!parsed.success) return undefined
    const message = parsed.data
    if (!isJSONRPCRequest(message) || isInitializeRequest(message) || waiting.has(message.id))
      return undefined
    return message
  }

  const t: SessionTransport = {
    get sessionId() {
      return sdk.sessionId
    },
    get onmessage() {
      return sdk.onmessage
    },
    set onmessage(h) {
      sdk.onmessage = h
    },
    get onclose() {
      return sdk.onclose
    },
    set onclose(h) {
      sdk.onclose = h
    },
    get onerror() {
      return sdk.onerror
    },
    set onerror(h) {
      sdk.onerror = h
    },
    start: () => sdk.start(),
    close: async () => {
      await sdk.close()
      // A call still running when the session closes is answered, not left hanging.
      for (const [id, answer] of waiting)
        answer({ jsonrpc: '2.0', id, error: { code: -32001, message: 'Session closed' } })
      waiting.clear()
    },
    async send(message, sendOptions) {
      const id =
        isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)
          ? message.id
          : sendOptions?.relatedRequestId
      const answer = id === undefined ? undefined : waiting.get(id)
      if (answer === undefined) return sdk.send(message, sendOptions)
      // A notification about a direct call is dropped, as the SDK's JSON-response mode does.
      if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
        waiting.delete(id!)
        answer(message)
      }
    },
    async handleRequest(req, res, body) {
      const message = direct(req, body)
      if (!message || !sdk.onmessage) return sdk.handleRequest(req, res, body)
      const response = await new Promise<JSONRPCMessage>((resolve) => {
        waiting.set(message.id, resolve)
        sdk.onmessage!(message, {
          authInfo: req.auth,
          requestInfo: {
            headers: req.headers as Record<string, string>,
            url: new URL(
              (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/',
              `http://${req.headers.host ?? 'localhost'}`,
            ),
          },
        })
      })
      const text = JSON.stringify(response)
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        'mcp-session-id': sdk.sessionId!,
      })
      res.end(text)
    },
  }
  return t
}
