import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

/** The SDK's own client over Streamable HTTP to the API's `/mcp`, with a bearer credential. */
export async function connectMcp(url: string, key: string) {
  const client = new Client({ name: 'tollgate-test', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  })
  await client.connect(transport)
  /** Calls a tool; its structured content and whether it is an error. */
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await client.callTool({ name, arguments: args })
    return {
      isError: r.isError === true,
      // biome-ignore lint/suspicious/noExplicitAny: tests read tool results loosely
      body: r.structuredContent as any,
      text: (r.content as { type: string; text: string }[])[0]?.text ?? '',
      replayed: (r._meta as Record<string, unknown> | undefined)?.['tollgate/replayed'] === true,
    }
  }
  return { client, transport, call, close: () => client.close() }
}
