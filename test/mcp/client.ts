import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

/** Calls a tool; its structured content and whether it is an error. */
const caller =
  (client: Client) =>
  async (name: string, args: Record<string, unknown> = {}) => {
    const r = await client.callTool({ name, arguments: args })
    return {
      isError: r.isError === true,
      // biome-ignore lint/suspicious/noExplicitAny: tests read tool results loosely
      body: r.structuredContent as any,
      text: (r.content as { type: string; text: string }[])[0]?.text ?? '',
      replayed: (r._meta as Record<string, unknown> | undefined)?.['tollgate/replayed'] === true,
    }
  }

/** The SDK's own client over Streamable HTTP to the API's `/mcp`, with a bearer credential. */
export async function connectMcp(url: string, key: string) {
  const client = new Client({ name: 'tollgate-test', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  })
  await client.connect(transport)
  return { client, transport, call: caller(client), close: () => client.close() }
}

/**
 * The SDK's own client over stdio to `tollgate mcp --key …`, spawned as a user would run it
 * (`node bin/tollgate.mjs`), against the database at `databaseUrl`.
 */
export async function connectMcpStdio(
  databaseUrl: string,
  key: string,
  env: Record<string, string> = {},
) {
  const client = new Client({ name: 'tollgate-test', version: '1.0.0' })
  const transport = new StdioClientTransport({
    command: 'node',
    args: ['bin/tollgate.mjs', 'mcp', '--key', key],
    env: {
      ...(process.env as Record<string, string>),
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      PUBLIC_BASE_URL: 'https://tollgate.test',
      DASHBOARD_URL: 'https://dash.tollgate.test',
      ...env,
    },
    stderr: 'pipe',
  })
  let stderr = ''
  transport.stderr?.on('data', (d) => (stderr += d))
  await client.connect(transport)
  return {
    client,
    transport,
    call: caller(client),
    stderr: () => stderr,
    close: () => client.close(),
  }
}
