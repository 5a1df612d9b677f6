import { randomBytes } from 'node:crypto'
import { describe, expect, test } from '../fixtures.js'
import { startApi } from './server.js'

const owner = () => `0x${randomBytes(20).toString('hex')}`

describe('usage names the API key that metered it', () => {
  test('an API key, a session key (its parent key) and the metering middleware', async ({ db }) => {
    const api = await startApi(db)
    try {
      const signup = await api.call('POST', '/v1/orgs', {
        body: { name: 'Keys', owner_address: owner() },
      })
      expect(signup.status).toBe(201)
      const key = signup.json.api_key as string
      const orgId = signup.json.org.id as string
      const who = await api.call('GET', '/v1/whoami', { key })
      const keyId = who.json.key_id as string
      expect(keyId).toMatch(/^[0-9a-f-]{36}$/)

      const direct = await api.call('POST', '/v1/usage', {
        key,
        body: { action: 'save_comment' },
        headers: { 'idempotency-key': 'k-1' },
      })
      expect(direct.status).toBe(201)
      const mint = await api.call('POST', '/v1/session_keys', { key, body: {} })
      expect(mint.status).toBe(201)
      const issue = await api.call('POST', '/v1/issues', {
        key: mint.json.session_key,
        body: { title: 'via a session key' },
      })
      expect(issue.status).toBe(201)

      const rows = await db.$client<{ id: string; action: string; key_id: string | null }[]>`
        select id::text, action, key_id::text from usage where org_id = ${orgId} order by id`
      expect(rows.map((r) => [r.action, r.key_id])).toEqual([
        ['save_comment', keyId],
        ['mint_session_key', keyId],
        ['save_issue.create', keyId],
      ])
      expect(rows.find((r) => r.id === direct.json.metered.usage_id)?.key_id).toBe(keyId)
    } finally {
      await api.stop()
    }
  })

  test('metering without a key leaves it null', async ({ db }) => {
    const api = await startApi(db)
    try {
      const signup = await api.call('POST', '/v1/orgs', {
        body: { name: 'No key', owner_address: owner() },
      })
      const orgId = signup.json.org.id as string
      const o = await api.ctx.meter.meter({ orgId, action: 'save_comment' })
      const [row] = await db.$client<{ key_id: string | null }[]>`
        select key_id::text from usage where id = ${o.usageId}`
      expect(row!.key_id).toBeNull()
    } finally {
      await api.stop()
    }
  })
})
