import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { responses } from '../../src/api/responses.js'
import { describe, expect, test } from '../fixtures.js'
import { signInWithSiwe, startApi } from './server.js'

describe('prepaid top-ups over HTTP', () => {
  test('owner/admin only, Idempotency-Key required, refused without a permit; booked once with one; auto top-up set and shown', async ({
    db,
  }) => {
    const api = await startApi(db)
    try {
      const wallet = privateKeyToAccount(generatePrivateKey())
      const org = (
        await api.call('POST', '/v1/orgs', {
          body: { name: 'Top-ups', owner_address: wallet.address },
        })
      ).json
      const sub = org.subscription_id
      const owner = await signInWithSiwe(api, wallet)
      await api.call('POST', '/v1/billing/mode', {
        key: owner,
        body: { mode: 'prepaid' },
        headers: { 'idempotency-key': 'mode-1' },
      })
      const buy = (key: string, body: unknown, idem?: string) =>
        api.call('POST', '/v1/billing/top-ups', {
          key,
          body,
          headers: idem ? { 'idempotency-key': idem } : {},
        })
      expect((await buy(org.api_key, { amount_micros: '2000000' }, 'b-0')).status).toBe(403)
      const noKey = await buy(owner, { amount_micros: '2000000' })
      expect(noKey.status).toBe(400)
      expect(noKey.json.error.code).toBe('VALIDATION_FAILED')
      for (const bad of [{ amount_micros: '0' }, { amount_micros: '-5' }, { amount_usd: '2' }, {}])
        expect((await buy(owner, bad, `bad-${JSON.stringify(bad).length}`)).status).toBe(400)
      // No permit yet (pending): refused, nothing booked; the owner signs on the manage page.
      const refused = await buy(owner, { amount_micros: '2000000' }, 'b-1')
      expect(refused.status).toBe(409)
      expect(refused.json.error).toMatchObject({
        code: 'TOP_UP_REFUSED',
        reason: 'no_permit',
        state: 'pending',
        subscription_id: sub,
      })
      // The owner signed (the permit's effect on the books, written directly here).
      await db.$client`update subscriptions set state = 'active', allowance = 5000000 where id = ${sub}`
      const booked = await buy(owner, { amount_micros: '2000000' }, 'b-2')
      expect(booked.status, booked.text).toBe(202)
      responses['POST /v1/billing/top-ups'].parse(booked.json)
      expect(booked.json.top_up).toMatchObject({
        amount: { micros: '2000000', usd: '$2.00' },
        status: 'booked',
        failure_reason: null,
        auto: false,
      })
      const again = await buy(owner, { amount_micros: '2000000' }, 'b-2')
      expect(again.json.top_up.id).toBe(booked.json.top_up.id)
      const second = await buy(owner, { amount_micros: '1000000' }, 'b-3')
      expect(second.status).toBe(409)
      expect(second.json.error).toMatchObject({
        reason: 'in_flight',
        top_up_id: booked.json.top_up.id,
      })
      const auto = await api.call('POST', '/v1/billing/auto-top-up', {
        key: owner,
        body: { threshold_micros: '500000', amount_micros: '3000000' },
        headers: { 'idempotency-key': 'a-1' },
      })
      expect(auto.status, auto.text).toBe(200)
      responses['POST /v1/billing/auto-top-up'].parse(auto.json)
      const billing = await api.call('GET', '/v1/billing', { key: org.api_key })
      responses['GET /v1/billing'].parse(billing.json)
      expect(billing.json.top_up).toEqual({
        auto: {
          threshold: { micros: '500000', usd: '$0.50' },
          amount: { micros: '3000000', usd: '$3.00' },
        },
        last: booked.json.top_up,
        packages: [],
      })
      const off = await api.call('DELETE', '/v1/billing/auto-top-up', {
        key: owner,
        headers: { 'idempotency-key': 'a-2' },
      })
      expect(off.json).toEqual({ removed: true })
      expect((await api.call('GET', '/v1/billing', { key: org.api_key })).json.top_up.auto).toBe(
        null,
      )
    } finally {
      await api.stop()
    }
  })
})
