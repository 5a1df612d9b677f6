import { signUp, startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { planUsed } from '../support/planUsed.js'
import { connectMcp } from './client.js'

describe('the plan in the MCP billing tools', () => {
  test('billing_status carries the plan (GET /v1/billing’s view) and its line; null without a plan', async ({
    db,
  }) => {
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '0' })
    try {
      const planned = await signUp(api)
      const plain = await signUp(api)
      const line = await planUsed(db, api, { orgId: planned.org.id, key: planned.api_key })

      const mcp = await connectMcp(api.url, planned.api_key)
      const status = await mcp.call('billing_status')
      await mcp.close()
      expect(status.isError).toBe(false)
      const billing = await api.call('GET', '/v1/billing', { key: planned.api_key })
      expect(status.body.plan).toEqual(billing.json.plan)
      expect(status.body.plan).toMatchObject({
        included_monthly: { micros: '1000000', usd: '$1.00' },
        used: { micros: '400000', usd: '$0.40' },
        remaining: { micros: '600000', usd: '$0.60' },
      })
      expect(status.body.plan_line).toBe(line)

      const other = await connectMcp(api.url, plain.api_key)
      const none = await other.call('billing_status')
      await other.close()
      expect({ plan: none.body.plan, plan_line: none.body.plan_line }).toEqual({
        plan: null,
        plan_line: null,
      })
    } finally {
      await api.stop()
    }
  })
})
