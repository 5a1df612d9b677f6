import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { Db } from '../../src/db/client.js'
import { emitBudgetResets } from '../../src/notifications/emitBudgetResets.js'
import { listEvents } from '../../src/notifications/events.js'
import { signInWithSiwe, signUp, startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'

type Api = Awaited<ReturnType<typeof startApi>>

const typed = async (db: Db, orgId: string, type: string) =>
  (await listEvents(db, { orgId, after: 0n, types: [type], limit: 500 })).map((e) => ({
    id: e.id,
    data: e.data,
  }))

const DAY = 86_400_000_000n

/**
 * An org signed up over HTTP whose key has a day budget of 12,000 (5,000 a comment: two fit,
 * `spent` stays at 10,000 and the third is refused), metered by 64 callers at once.
 */
async function keyOverBudget(api: Api) {
  const wallet = privateKeyToAccount(generatePrivateKey())
  const signup = await signUp(api, wallet.address)
  const key = signup.api_key
  const orgId = signup.org.id
  const keyId = (await api.call('GET', '/v1/whoami', { key })).json.key_id as string
  const owner = await signInWithSiwe(api, wallet)
  const set = await api.call('POST', '/v1/budgets', {
    key: owner,
    body: { key_id: keyId, period: 'day', limit_micros: '12000' },
    headers: { 'idempotency-key': 'b-1' },
  })
  expect(set.status, set.text).toBe(200)
  const statuses = await Promise.all(
    Array.from({ length: 64 }, (_, i) =>
      api
        .call('POST', '/v1/usage', {
          key,
          body: { action: 'save_comment' },
          headers: { 'idempotency-key': `u-${i}` },
        })
        .then((r) => (r.status === 402 ? r.json.error.code : r.status)),
    ),
  )
  expect(statuses.filter((s) => s === 201)).toHaveLength(2)
  expect(statuses.filter((s) => s === 'SPEND_CAP_REACHED')).toHaveLength(62)
  return { orgId, keyId, key }
}

describe('budget.reached for a spend budget', () => {
  test('64 callers refused over a key budget: budget.reached once; the next day budget.reset once, by the worker or by metering', async ({
    db,
  }) => {
    const api = await startApi(db)
    try {
      const a = await keyOverBudget(api)
      const reached = await typed(db, a.orgId, 'budget.reached')
      expect(reached).toEqual([
        {
          id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
          data: expect.objectContaining({
            scope: 'key',
            key_id: a.keyId,
            period: 'day',
            limit_micros: '12000',
            spent_micros: '10000',
          }),
        },
      ])
      // In the outbox once, for the delivery worker.
      const [queued] = await db.$client<{ n: number }[]>`
        select count(*)::int as n from outbox where event_id = ${reached[0]!.id}`
      expect(queued!.n).toBe(1)
      // More refusals the same day say nothing more.
      const again = await api.call('POST', '/v1/usage', {
        key: a.key,
        body: { action: 'save_comment' },
        headers: { 'idempotency-key': 'u-again' },
      })
      expect(again.status).toBe(402)
      expect(await typed(db, a.orgId, 'budget.reached')).toHaveLength(1)
      // The day over: the worker says the budget has room again (it was refused below its limit,
      // so only budget.reached tells that it had been reached), once.
      const start = BigInt(Date.now()) * 1000n
      const tomorrow = (start / DAY + 1n) * DAY
      const later = new Date(Number((tomorrow + 3_600_000_000n) / 1000n))
      expect(await emitBudgetResets(db, later)).toBe(1)
      expect(await emitBudgetResets(db, later)).toBe(0)
      const meter = makeMeter(db, () => tomorrow + 3_600_000_000n)
      await meter.meter({ orgId: a.orgId, keyId: a.keyId, action: 'save_comment' })
      expect((await typed(db, a.orgId, 'budget.reset')).map((e) => e.data)).toEqual([
        { scope: 'key', key_id: a.keyId, period: 'day', cause: 'window', limit_micros: '12000' },
      ])

      // Metering first into the next day: its transaction says it (the budgets trigger).
      const b = await keyOverBudget(api)
      expect(await typed(db, b.orgId, 'budget.reached')).toHaveLength(1)
      await meter.meter({ orgId: b.orgId, keyId: b.keyId, action: 'save_comment' })
      expect(await typed(db, b.orgId, 'budget.reset')).toHaveLength(1)
      expect(await emitBudgetResets(db, later)).toBe(0)
      await meter.close()
    } finally {
      await api.stop()
    }
  })
})
