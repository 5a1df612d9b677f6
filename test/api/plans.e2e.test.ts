import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { responses } from '../../src/api/responses.js'
import { reconcileLedger } from '../../src/ledger/index.js'
import { authorizeSubscription } from '../../src/subscriptions/state/authorizeSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { startApi } from './server.js'

const token = 'operator-token-for-tests-0123456789abcdef'

type Api = Awaited<ReturnType<typeof startApi>>

/** An org signed up through the API, its subscription authorized (active, $100 allowance). */
async function authorizedOrg(api: Api, db: Parameters<typeof reconcileLedger>[0], name: string) {
  const wallet = privateKeyToAccount(generatePrivateKey())
  const org = (
    await api.call('POST', '/v1/orgs', { body: { name, owner_address: wallet.address } })
  ).json
  const orgId = (await api.call('GET', '/v1/whoami', { key: org.api_key })).json.org_id
  await authorizeSubscription(db, {
    orgId,
    subscriptionId: org.subscription_id,
    owner: wallet.address,
    allowance: 100_000_000n,
    monthlyLimit: null,
  })
  return { org, orgId }
}

describe('plans over HTTP', () => {
  test('the operator sets an included allowance; usage draws it before anything is billable; the owner sees it in GET /v1/billing', async ({
    db,
  }) => {
    const api = await startApi(db, { OPERATOR_API_TOKEN: token, SIGNUP_CREDIT_MICROS: '0' })
    try {
      const { org, orgId } = await authorizedOrg(api, db, 'Plan')
      const path = `/v1/operator/orgs/${orgId}/plan`
      const set = (body: unknown, key: string | undefined = token) =>
        api.call('POST', path, { ...(key === undefined ? {} : { key }), body })
      // Only the operator's token sets a plan: none, the org's own key, or a wrong token is 401.
      for (const key of ['', org.api_key, `${token}x`])
        expect((await set({ included_monthly_micros: '12000' }, key)).status).toBe(401)
      expect((await set({ included_monthly_micros: '-1' })).status).toBe(400)
      expect((await set({ included_monthly_micros: 12000 })).status).toBe(400)
      const unknown = await api.call('GET', `/v1/operator/orgs/${crypto.randomUUID()}/plan`, {
        key: token,
      })
      expect([unknown.status, unknown.json.error.code]).toEqual([404, 'NO_BILLING_ACCOUNT'])
      const before = await api.call('GET', path, { key: token })
      responses['GET /v1/operator/orgs/{id}/plan'].parse(before.json)
      expect(before.json).toEqual({ org_id: orgId, plan: null })
      const ok = await set({ included_monthly_micros: '12000' })
      expect(ok.status, ok.text).toBe(200)
      responses['POST /v1/operator/orgs/{id}/plan'].parse(ok.json)
      expect(ok.json.plan).toMatchObject({
        included_monthly: { micros: '12000' },
        used: { micros: '0' },
        remaining: { micros: '12000' },
      })
      const use = async () => {
        const r = await api.call('POST', '/v1/usage', {
          key: org.api_key,
          body: { action: 'save_comment' },
        })
        expect(r.status, r.text).toBe(201)
        return r.json.metered
      }
      // 5,000 a comment: two from the plan, the third takes its last 2,000 and bills 3,000.
      expect(await use()).toMatchObject({ included_micros: '5000', billable_micros: '0' })
      expect(await use()).toMatchObject({ included_micros: '5000', billable_micros: '0' })
      expect(await use()).toMatchObject({ included_micros: '2000', billable_micros: '3000' })
      const billing = await api.call('GET', '/v1/billing', { key: org.api_key })
      responses['GET /v1/billing'].parse(billing.json)
      const now = new Date()
      expect(billing.json.plan).toEqual({
        included_monthly: { micros: '12000', usd: '$0.012' },
        used: { micros: '12000', usd: '$0.012' },
        remaining: { micros: '0', usd: '$0.00' },
        window_start: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString(),
        renews_at: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString(),
        included_actions: {},
      })
      expect(billing.json.accrued_since_last_charge).toEqual({ micros: '3000', usd: '$0.003' })
      // Removed: nothing more is included.
      expect((await set({ included_monthly_micros: null })).json.plan).toBeNull()
      expect(await use()).toMatchObject({ included_micros: '0', billable_micros: '5000' })
      expect(await reconcileLedger(db, { orgId })).toEqual([])
    } finally {
      await api.stop()
    }
  })

  test('a plan of units of an action: drawn first, split past them, shown per action; an unknown action is 400 and changes nothing', async ({
    db,
  }) => {
    const api = await startApi(db, { OPERATOR_API_TOKEN: token, SIGNUP_CREDIT_MICROS: '0' })
    try {
      const { org, orgId } = await authorizedOrg(api, db, 'Units')
      const path = `/v1/operator/orgs/${orgId}/plan`
      const set = (body: unknown) => api.call('POST', path, { key: token, body })
      for (const bad of [
        { included_actions: { no_such_action: 10 } },
        { included_actions: { save_comment: -1 } },
        { included_actions: { save_comment: 1.5 } },
        { included_actions: { save_comment: '10' } },
        { included_actions: [10] },
      ]) {
        const r = await set(bad)
        expect(r.status, JSON.stringify(bad)).toBe(400)
      }
      const unknown = await set({ included_actions: { no_such_action: 10 } })
      expect(unknown.json.error.code).toBe('UNKNOWN_ACTION')
      expect((await api.call('GET', path, { key: token })).json.plan).toBeNull()
      const ok = await set({ included_actions: { save_comment: 3 } })
      expect(ok.status, ok.text).toBe(200)
      responses['POST /v1/operator/orgs/{id}/plan'].parse(ok.json)
      const now = new Date()
      const renews = new Date(
        Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1),
      ).toISOString()
      expect(ok.json.plan).toMatchObject({
        included_monthly: null,
        included_actions: {
          save_comment: { included: 3, used: 0, remaining: 3, renews_at: renews },
        },
      })
      const use = async (quantity: number) => {
        const r = await api.call('POST', '/v1/usage', {
          key: org.api_key,
          body: { action: 'save_comment', quantity },
        })
        expect(r.status, r.text).toBe(201)
        return r.json.metered
      }
      expect(await use(2)).toMatchObject({
        included_units: 2,
        price_micros: '0',
        billable_micros: '0',
      })
      // One unit left of a quantity of 3: one covered, two priced (5,000 each).
      expect(await use(3)).toMatchObject({
        included_units: 1,
        price_micros: '10000',
        billable_micros: '10000',
      })
      const billing = await api.call('GET', '/v1/billing', { key: org.api_key })
      responses['GET /v1/billing'].parse(billing.json)
      expect(billing.json.plan.included_actions).toEqual({
        save_comment: { included: 3, used: 3, remaining: 0, renews_at: renews },
      })
      const shown = await api.call('GET', path, { key: token })
      responses['GET /v1/operator/orgs/{id}/plan'].parse(shown.json)
      expect(shown.json.plan.included_actions.save_comment).toMatchObject({ used: 3 })
      expect(await reconcileLedger(db, { orgId })).toEqual([])
    } finally {
      await api.stop()
    }
  })
})
