import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { createLogger } from '../../src/core/log.js'
import type { Db } from '../../src/db/client.js'
import { emitBudgetResets } from '../../src/notifications/emitBudgetResets.js'
import { listEvents } from '../../src/notifications/events.js'
import { notificationJobs } from '../../src/notifications/jobs.js'
import { signInWithSiwe, signUp, startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { config, makeMeter } from '../ledger/helpers.js'
import { startNotificationRig } from '../support/notificationRig.js'

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

  test('a refusal in a new window while the budget row still holds the old one: that window is reset once too, by the worker or by metering', async ({
    db,
  }) => {
    const api = await startApi(db)
    const today = (BigInt(Date.now()) * 1000n) / DAY
    const hour = 3_600_000_000n
    const at = (day: bigint) => new Date(Number((day * DAY + hour) / 1000n))
    /** Over budget today; tomorrow a call too big for the whole day is its first. */
    const refusedTomorrow = async () => {
      const a = await keyOverBudget(api)
      // The next day: the worker says the first day's budget has room again.
      expect(await emitBudgetResets(db, at(today + 1n))).toBe(1)
      // 3 comments (15,000 > 12,000) are refused while the budget's row still holds
      // yesterday's window: nothing is counted in the new one.
      const meter = makeMeter(db, () => (today + 1n) * DAY + hour)
      await expect(
        meter.meter({ orgId: a.orgId, keyId: a.keyId, action: 'save_comment', quantity: 3 }),
      ).rejects.toMatchObject({ code: 'SPEND_CAP_REACHED' })
      await meter.close()
      expect(await typed(db, a.orgId, 'budget.reached')).toHaveLength(2)
      return a
    }
    const third = makeMeter(db, () => (today + 2n) * DAY + 2n * hour)
    try {
      // The day after, the worker says the second day's reached budget has room again, once.
      const a = await refusedTomorrow()
      expect(await emitBudgetResets(db, at(today + 2n))).toBe(1)
      expect(await emitBudgetResets(db, at(today + 2n))).toBe(0)
      await third.meter({ orgId: a.orgId, keyId: a.keyId, action: 'save_comment' })
      const resets = await typed(db, a.orgId, 'budget.reset')
      expect(resets).toHaveLength(2)
      expect(new Set(resets.map((e) => e.id)).size).toBe(2)

      // Or metering on the third day says it first (the budgets trigger), and the worker
      // finds nothing more to say.
      const b = await refusedTomorrow()
      await third.meter({ orgId: b.orgId, keyId: b.keyId, action: 'save_comment' })
      expect(await typed(db, b.orgId, 'budget.reset')).toHaveLength(2)
      expect(await emitBudgetResets(db, at(today + 2n))).toBe(0)
    } finally {
      await third.close()
      await api.stop()
    }
  })

  test('delivered: a key budget refuses over HTTP (budget.reached), its day ends, the notify-due job writes budget.reset; each arrives once, signed', async ({
    db,
  }) => {
    const api = await startApi(db)
    const rig = await startNotificationRig(db, 31337)
    const today = (BigInt(Date.now()) * 1000n) / DAY
    const tomorrow = (today + 1n) * DAY + 3_600_000_000n
    const meter = makeMeter(db, () => tomorrow)
    try {
      const a = await keyOverBudget(api)
      const [account] = await db.$client<{ subscription_id: string }[]>`
        select subscription_id from billing_accounts where org_id = ${a.orgId}`
      const subscriptionId = account!.subscription_id
      await rig.subscribe(a.orgId, 'budget-owner@example.test')
      await rig.drain()
      const reached = rig.delivered().filter((e) => e.type === 'budget.reached')
      expect(reached).toHaveLength(1)
      expect(reached[0]!.webhookId).toBe(reached[0]!.id)
      expect(reached[0]).toMatchObject({
        org_id: a.orgId,
        data: {
          scope: 'key',
          key_id: a.keyId,
          period: 'day',
          limit_micros: '12000',
          spent_micros: '10000',
          manage_url: rig.manageUrl({ subscriptionId }),
        },
      })

      // The worker's notify-due job, its clock an hour into the next day: budget.reset, once
      // however often it looks, and metering into the new day adds nothing.
      const due = notificationJobs({
        db,
        config,
        log: createLogger('error'),
        now: () => new Date(Number(tomorrow / 1000n)),
      }).find((j) => j.name === 'notify-due')!
      await due.run(new AbortController().signal)
      await due.run(new AbortController().signal)
      await meter.meter({ orgId: a.orgId, keyId: a.keyId, action: 'save_comment' })
      await rig.drain()
      await rig.drain()
      const resets = rig.delivered().filter((e) => e.type === 'budget.reset')
      expect(resets).toHaveLength(1)
      expect(resets[0]!.webhookId).toBe(resets[0]!.id)
      expect(resets[0]).toMatchObject({
        org_id: a.orgId,
        subscription_id: subscriptionId,
        data: {
          scope: 'key',
          key_id: a.keyId,
          period: 'day',
          cause: 'window',
          limit_micros: '12000',
          manage_url: rig.manageUrl({ subscriptionId }),
        },
      })
      expect(rig.delivered().map((e) => e.type)).toEqual(['budget.reached', 'budget.reset'])
    } finally {
      await meter.close()
      await rig.stop()
      await api.stop()
    }
  })
})
