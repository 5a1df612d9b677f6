import { responses } from '../../src/api/responses.js'
import { bookCharges, markChargeCollected } from '../../src/ledger/index.js'
import { authorizeSubscription } from '../../src/subscriptions/state/authorizeSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { startApi } from './server.js'

const today = () => new Date().toISOString().slice(0, 10)

describe('usage views: GET /v1/billing/usage and monthly statements', () => {
  test('usage by day, action, tier and key over a period; a statement lists each charge with its lines and transaction, as JSON and CSV', async ({
    db,
  }) => {
    const api = await startApi(db)
    try {
      const org = (
        await api.call('POST', '/v1/orgs', {
          body: { name: 'Usage', owner_address: '0x00000000000000000000000000000000000000aa' },
        })
      ).json
      const key = org.api_key
      await authorizeSubscription(db, {
        orgId: org.org.id,
        subscriptionId: org.subscription_id,
        owner: '0x00000000000000000000000000000000000000aa',
        allowance: 50_000_000n,
        monthlyLimit: 20_000_000n,
      })
      // $2 of signup credit first: 300 claims ($2.10) leave $0.10 billable, then 10 heartbeats.
      for (let i = 0; i < 300; i++)
        await api.call('POST', '/v1/usage', { key, body: { action: 'claim_issue' } })
      for (let i = 0; i < 10; i++)
        await api.call('POST', '/v1/usage', { key, body: { action: 'heartbeat' } })

      const r = await api.call('GET', '/v1/billing/usage?period=7d', { key })
      expect(r.status).toBe(200)
      expect(responses['GET /v1/billing/usage'].parse(r.json)).toBeTruthy()
      expect(r.json.period).toMatchObject({ kind: '7d', to: today() })
      expect(r.json.days).toHaveLength(7)
      expect(r.json.days.at(-1)).toMatchObject({
        day: today(),
        calls: 310,
        voucher: { micros: '2000000' },
        billable: { micros: '101000' },
        total: { usd: '$2.101' },
      })
      expect(r.json.days[0].calls).toBe(0)
      expect(r.json.by_action.map((a: { action: string }) => a.action)).toEqual([
        'claim_issue',
        'heartbeat',
      ])
      expect(r.json.by_tier).toMatchObject([
        { tier: 'moat', calls: 300 },
        { tier: 'subfloor', calls: 10, total: { micros: '1000' } },
      ])
      expect(r.json.window).toMatchObject({
        monthly_limit: { usd: '$20.00' },
        spent: { micros: '101000' },
      })
      expect(r.json.cap).toMatchObject({ lifetime_cap: { usd: '$50.00' } })
      // Every call was made with the org's first API key: one line, named by its prefix.
      expect(r.json.by_key).toHaveLength(1)
      expect(r.json.by_key[0]).toMatchObject({ calls: 310, key_id: expect.any(String) })
      expect(key.startsWith(r.json.by_key[0].prefix)).toBe(true)

      const win = await api.call('GET', '/v1/billing/usage?period=window', { key })
      expect(win.json.period).toMatchObject({ kind: 'window', from: today(), to: today() })
      const custom = await api.call(
        'GET',
        `/v1/billing/usage?period=custom&from=2020-01-01&to=2020-01-31`,
        { key },
      )
      expect(custom.json.totals.calls).toBe(0)
      expect(custom.json.days).toHaveLength(31)
      for (const bad of [
        'period=custom&from=2020-02-01&to=2020-01-01',
        'period=custom&from=2020-01-01',
        'period=custom&from=2019-01-01&to=2020-12-31',
        'period=7d&from=2020-01-01',
        'period=year',
        'period=custom&from=2020-02-30&to=2020-03-01',
      ])
        expect((await api.call('GET', `/v1/billing/usage?${bad}`, { key })).status, bad).toBe(400)

      // A statement: the booked charge with its usage lines, then collected with its transaction.
      const [charge] = await bookCharges(db, { orgId: org.org.id })
      await markChargeCollected(db, { chargeId: charge!.id, txHash: `0x${'ab'.repeat(32)}` })
      const month = today().slice(0, 7)
      const s = await api.call('GET', `/v1/billing/statements/${month}`, { key })
      expect(s.status).toBe(200)
      expect(responses['GET /v1/billing/statements/{month}'].parse(s.json)).toBeTruthy()
      expect(s.json).toMatchObject({
        month,
        total: { micros: '101000' },
        collected: { micros: '101000' },
        charges: [
          {
            seq: 1,
            status: 'collected',
            tx_hash: `0x${'ab'.repeat(32)}`,
            lines: [
              { action: 'claim_issue', calls: 15, amount: { micros: '100000' } },
              { action: 'heartbeat', calls: 10, amount: { micros: '1000' } },
            ],
          },
        ],
      })
      const c = await api.call('GET', `/v1/billing/statements/${month}.csv`, { key })
      expect(c.status).toBe(200)
      expect(c.headers.get('content-type')).toMatch(/^text\/csv/)
      const rows = c.text.trim().split('\r\n')
      // The header, two usage lines, then the totals (billed, refunded, net).
      expect(rows).toHaveLength(6)
      expect(rows[1]).toContain(
        `,collected,$0.101,101000,0x${'ab'.repeat(32)},,claim_issue,15,15,$0.10,100000`,
      )
      const empty = await api.call('GET', '/v1/billing/statements/2020-01', { key })
      expect(empty.json).toMatchObject({ charges: [], total: { micros: '0' } })
      expect((await api.call('GET', '/v1/billing/statements/2020-13', { key })).status).toBe(400)
    } finally {
      await api.stop()
    }
  }, 60_000)
})
