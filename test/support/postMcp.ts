export type PostMcpParameters = {
  /** The bearer credential sent. */
  key: string
  /** The MCP session the request claims (`mcp-session-id`). */
  sessionId: string
  /** The raw body: a JSON-RPC message, or anything else. */
  body: string
  /** More headers, or others in place of these. */
  headers?: Record<string, string>
}

/**
 * A raw JSON-RPC POST to the API's `/mcp` on a session, with the headers a Streamable HTTP
 * client sends, and no client-side checks in the way; the fetch `Response`.
 *
 * @example
 * const res = await postMcp(api.url, { key, sessionId: mcp.transport.sessionId!, body })
 */
export function postMcp(url: string, p: PostMcpParameters) {
  return fetch(`${url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${p.key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': p.sessionId,
      'mcp-protocol-version': '2025-06-18',
      ...p.headers,
    },
    body: p.body,
  })
}
