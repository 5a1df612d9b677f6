import { randomBytes } from 'node:crypto'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { postMcp } from '../support/postMcp.js'
import { connectMcp } from './client.js'

// `/mcp` answers a single call on an open session itself (src/mcp/sessionTransport.ts) and
// hands every other request to the SDK's transport: both must answer as the SDK does.
describe('MCP transport: the direct path and the SDK path answer alike', () => {
  test('a call, the same call in a batch, a notification, and the SDK refusals', async ({ db }) => {
    const api = await startApi(db)
    try {
      const signup = await api.call('POST', '/v1/orgs', {
        body: { name: 'MCP', owner_address: `0x${randomBytes(20).toString('hex')}` },
      })
      const key = (signup.json as { api_key: string }).api_key
      const mcp = await connectMcp(api.url, key)
      const session = mcp.transport.sessionId!
      const post = (body: unknown, headers: Record<string, string> = {}) =>
        postMcp(api.url, { key, sessionId: session, body: JSON.stringify(body), headers }).then(
          async (r) => ({
            status: r.status,
            type: r.headers.get('content-type'),
            session: r.headers.get('mcp-session-id'),
            text: await r.text(),
          }),
        )
      const call = (id: number) => ({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'queue_status', arguments: {} },
      })

      const direct = await post(call(1))
      expect(direct).toMatchObject({ status: 200, type: 'application/json', session })
      const one = JSON.parse(direct.text)
      expect(one).toMatchObject({ jsonrpc: '2.0', id: 1, result: { structuredContent: {} } })
      // A batch goes to the SDK: the same answer, in an array.
      const batch = await post([call(2), call(3)])
      expect(batch).toMatchObject({ status: 200, session })
      expect(batch.type).toMatch(/^application\/json/)
      const both = JSON.parse(batch.text)
      expect(both.map((m: { id: number }) => m.id)).toEqual([2, 3])
      expect(both[0].result).toEqual(one.result)
      // Errors of the protocol come back the same way on the direct path.
      const unknown = JSON.parse((await post({ ...call(4), params: { name: 'nope' } })).text)
      expect(unknown).toMatchObject({ id: 4, error: { code: -32602 } })
      // A notification: 202, nothing in the body.
      const note = await post({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 99 },
      })
      expect(note.status).toBe(202)
      // The SDK's refusals stay its own: an unsupported protocol version, a missing Accept type,
      // a second initialize.
      expect((await post(call(5), { 'mcp-protocol-version': '1999-01-01' })).status).toBe(400)
      expect((await post(call(6), { accept: 'application/json' })).status).toBe(406)
      const init = await post({
        jsonrpc: '2.0',
        id: 7,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'x', version: '1' },
        },
      })
      expect(init.status).toBe(400)
      // The SDK client still works on the session after all that.
      expect((await mcp.call('whoami')).isError).toBe(false)
      await mcp.close()
    } finally {
      await api.stop()
    }
  })
})
