import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { responses } from '../../src/api/responses.js'
import { reconcileLedger } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { signInWithSiwe, startApi } from './server.js'

type Api = Awaited<ReturnType<typeof startApi>>

/** Signs an org up and its owner in (SIWE): its key, the key's id and the owner's token. */
async function ownerOf(api: Api) {
  const wallet = privateKeyToAccount(generatePrivateKey())
  const signup = await api.call('POST', '/v1/orgs', {
    body: { name: 'Budgets', owner_address: wallet.address },
  })
  const key = signup.json.api_key as string
  const keyId = (await api.call('GET', '/v1/whoami', { key })).json.key_id as string
  const owner = await signInWithSiwe(api, wallet)
  return { key, keyId, owner, orgId: signup.json.org.id as string }
}

describe('budgets over HTTP', () => {
  test('an owner sets a key budget; the key and its session keys are held to it; 402 says why and until when', async ({
    db,
  }) => {
    const api = await startApi(db)
    try {
      const { key, keyId, owner } = await ownerOf(api)
      const body = { key_id: keyId, period: 'day', limit_micros: '12000' }
      // An agent's key may read budgets, never set them.
      const denied = await api.call('POST', '/v1/budgets', {
        key,
        body,
        headers: { 'idempotency-key': 'b-0' },
      })
      expect(denied.status).toBe(403)
      const bad = await api.call('POST', '/v1/budgets', {
        key: owner,
        body: { ...body, period: 'year' },
        headers: { 'idempotency-key': 'b-bad' },
      })
      expect(bad.status).toBe(400)
      const set = await api.call('POST', '/v1/budgets', {
        key: owner,
        body,
        headers: { 'idempotency-key': 'b-1' },
      })
      expect(set.status, set.text).toBe(200)
      responses['POST /v1/budgets'].parse(set.json)
      expect(set.json.budget).toMatchObject({
        scope: 'key',
        key_id: keyId,
        limit: { micros: '12000' },
        spent: { micros: '0' },
      })
      // 5,000 a comment: two fit, the third is refused; a session key counts against its parent.
      const comment = (k: string, n: string) =>
        api.call('POST', '/v1/usage', {
          key: k,
          body: { action: 'save_comment' },
          headers: { 'idempotency-key': n },
        })
      expect((await comment(key, 'u-1')).status).toBe(201)
      const session = (await api.call('POST', '/v1/session_keys', { key, body: {} })).json
        .session_key as string
      expect((await comment(session, 'u-2')).status).toBe(201)
      const refused = await comment(session, 'u-3')
      expect(refused.status).toBe(402)
      expect(refused.json.error).toMatchObject({
        code: 'SPEND_CAP_REACHED',
        scope: 'key',
        period: 'day',
        limit_micros: '12000',
        spent_micros: '11000',
      })
      expect(refused.json.error.resets_at).toMatch(/T00:00:00\.000Z$/)
      const list = await api.call('GET', '/v1/budgets', { key })
      responses['GET /v1/budgets'].parse(list.json)
      expect(list.json.budgets[0]).toMatchObject({ spent: { micros: '11000' } })
      // A temporary override lets the key go on until it ends.
      const until = new Date(Date.now() + 3_600_000).toISOString()
      const raised = await api.call('POST', '/v1/budgets', {
        key: owner,
        body: { ...body, override: { limit_micros: '20000', until } },
        headers: { 'idempotency-key': 'b-2' },
      })
      expect(raised.json.budget.effective_limit.micros).toBe('20000')
      expect((await comment(key, 'u-4')).status).toBe(201)
      const gone = await api.call('DELETE', `/v1/budgets/${keyId}/day`, {
        key: owner,
        headers: { 'idempotency-key': 'b-3' },
      })
      expect(gone.json).toEqual({ removed: true })
      expect((await api.call('GET', '/v1/budgets', { key })).json.budgets).toEqual([])
    } finally {
      await api.stop()
    }
  })

  test('a spent budget: the check says so as the meter would; the wind-down of an earlier lease goes through', async ({
    db,
  }) => {
    const api = await startApi(db)
    try {
      const { key, keyId, owner, orgId } = await ownerOf(api)
      const issue = (await api.call('POST', '/v1/issues', { key, body: { title: 'work' } })).json
        .issue
      const claim = (await api.call('POST', '/v1/queue/next', { key, body: {} })).json.issue
      expect(claim.id).toBe(issue.id)
      const check = (k: string, action = 'save_comment') =>
        api.call('POST', '/v1/usage/check', { key: k, body: { action } })
      expect((await check(key)).json).toMatchObject({ allowed: true, price_micros: '5000' })
      // The key has spent 12,000 today (a create and a claim): a 12,000 budget is spent.
      const set = await api.call('POST', '/v1/budgets', {
        key: owner,
        body: { key_id: keyId, period: 'day', limit_micros: '12000' },
        headers: { 'idempotency-key': 'w-1' },
      })
      expect(set.json.budget.remaining.micros).toBe('0')
      const session = (await api.call('POST', '/v1/session_keys', { key, body: {} })).json
        .session_key as string
      for (const k of [key, session]) {
        const c = await check(k)
        responses['POST /v1/usage/check'].parse(c.json)
        expect(c.json).toMatchObject({
          allowed: false,
          code: 'SPEND_CAP_REACHED',
          scope: 'key',
          period: 'day',
          limit_micros: '12000',
          spent_micros: '12000',
        })
        expect(c.json.resets_at).toMatch(/T00:00:00\.000Z$/)
        const metered = await api.call('POST', '/v1/usage', {
          key: k,
          body: { action: 'save_comment' },
        })
        expect(metered.status).toBe(402)
      }
      // The check of a wind-down of the lease, and the wind-down itself: through, free.
      const lease = { action: 'heartbeat', lease_claimed_at: claim.lease.claimed_at }
      const windDownCheck = await api.call('POST', '/v1/usage/check', { key, body: lease })
      expect(windDownCheck.json).toMatchObject({ allowed: true, free: 'wind_down' })
      const token = claim.lease.token
      for (const [action, body] of [
        ['heartbeat', { lease_token: token }],
        ['checkpoint', { lease_token: token, checkpoint: 'halfway' }],
        ['release', { lease_token: token }],
      ] as const) {
        const res = await api.call('POST', `/v1/issues/${claim.id}/${action}`, { key, body })
        expect(res.status, `${action} ${res.text}`).toBe(200)
        expect(res.json.metered).toMatchObject({ price_micros: '0', free: 'wind_down' })
      }
      // A new claim is paid work: refused.
      const again = await api.call('POST', '/v1/queue/next', { key, body: {} })
      expect(again.status).toBe(402)
      expect(again.json.error).toMatchObject({ code: 'SPEND_CAP_REACHED', scope: 'key' })
      // An org budget: another key of the org is held to it too, and the check says `org`.
      await api.call('POST', '/v1/budgets', {
        key: owner,
        body: { period: 'week', limit_micros: '12000' },
        headers: { 'idempotency-key': 'w-2' },
      })
      const other = (await api.call('POST', '/v1/keys', { key: owner, body: {} })).json
      const otherKey = (other.api_key ?? other.key) as string
      const orgCheck = await check(otherKey, 'heartbeat')
      expect(orgCheck.json).toMatchObject({
        allowed: false,
        code: 'SPEND_CAP_REACHED',
        scope: 'org',
      })
      expect(await reconcileLedger(db, { orgId })).toEqual([])
    } finally {
      await api.stop()
    }
  })
})
