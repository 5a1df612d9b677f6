import type { Db } from '../../src/db/client.js'
import { listEvents } from '../../src/notifications/events.js'
import { authorizeSubscription } from '../../src/subscriptions/state/authorizeSubscription.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, makeMeter, newOrg } from '../ledger/helpers.js'
import { meterNodes } from '../support/meterNodes.js'

const eventsOf = async (db: Db, orgId: string) =>
  (await listEvents(db, { orgId, after: 0n, limit: 500 })).map((e) => ({
    type: e.type,
    data: e.data,
  }))

describe('events are written with their cause', () => {
  test('64 callers metering across 80% and 95% of the cap: each crossing once, then exhausted once', async ({
    db,
    databaseUrl,
  }) => {
    const allowance = 1_000_000n
    const { orgId } = await activeOrg(db, { allowance })
    const { nodes, close } = meterNodes(databaseUrl, 4)
    let refused = 0
    await Promise.all(
      Array.from({ length: 64 }, async (_, caller) => {
        const { meter } = nodes[caller % 4]!
        while (refused === 0) {
          try {
            await meter.meter({ orgId, action: caller % 2 ? 'claim_issue' : 'save_comment' })
          } catch (e) {
            expect((e as { code: string }).code).toBe('BILLING_INACTIVE')
            refused++
          }
        }
      }),
    )
    await close()
    const events = await eventsOf(db, orgId)
    // 80% once, then 95% once — unless the batch that crossed 95% also refused a call for the
    // allowance: then allowance.exhausted alone says it. Exhausted once, and last.
    const types = events.map((e) => e.type)
    expect(types.slice(0, 2)).toEqual(['subscription.activated', 'allowance.low'])
    expect(types.at(-1)).toBe('allowance.exhausted')
    expect(types.filter((t) => t === 'allowance.exhausted')).toHaveLength(1)
    const low = events.filter((e) => e.type === 'allowance.low')
    expect(low.map((e) => e.data.percent)).toEqual([80, 95].slice(0, low.length))
    expect(low.length).toBeGreaterThanOrEqual(1)
    expect(low[0]!.data.cap_micros).toBe('1000000')
    expect(BigInt(low[0]!.data.used_micros as string)).toBeGreaterThanOrEqual(800_000n)
    expect(BigInt(low[0]!.data.used_micros as string)).toBeLessThan(800_000n + 7_000n * 64n)
    if (low[1]) expect(BigInt(low[1].data.used_micros as string)).toBeGreaterThanOrEqual(950_000n)
    // Every event has its outbox row (nothing delivers in this test).
    const [row] = await db.$client<{ n: number }[]>`
      select count(*)::int as n from outbox o join events e on e.id = o.event_id
      where e.org_id = ${orgId}`
    expect(row?.n).toBe(events.length)
  })

  test('a re-authorization arms the thresholds again; a larger cap is crossed anew', async ({
    db,
  }) => {
    const { orgId, subscriptionId } = await activeOrg(db, { allowance: 100_000n })
    const meter = makeMeter(db)
    for (let i = 0; i < 17; i++) await meter.meter({ orgId, action: 'save_comment' }) // 85_000
    expect((await eventsOf(db, orgId)).filter((e) => e.type === 'allowance.low')).toHaveLength(1)
    await authorizeSubscription(db, {
      orgId,
      subscriptionId,
      owner: '0x00000000000000000000000000000000000000aa',
      allowance: 1_000_000n,
      monthlyLimit: null,
    })
    for (let i = 0; i < 20; i++) await meter.meter({ orgId, action: 'save_comment' }) // 185_000
    expect((await eventsOf(db, orgId)).filter((e) => e.type === 'allowance.low')).toHaveLength(1)
    for (let i = 0; i < 140; i++) await meter.meter({ orgId, action: 'save_comment' }) // 885_000
    const low = (await eventsOf(db, orgId)).filter((e) => e.type === 'allowance.low')
    expect(low.map((e) => [e.data.percent, e.data.cap_micros])).toEqual([
      [80, '100000'],
      [80, '1000000'],
    ])
    await meter.close()
  })

  test('signup credit: low at a fifth left, exhausted at zero, each once', async ({ db }) => {
    const { orgId } = await newOrg(db, 50_000n)
    const meter = makeMeter(db)
    for (let i = 0; i < 10; i++) {
      try {
        await meter.meter({ orgId, action: 'save_comment' })
      } catch (e) {
        expect((e as { code: string }).code).toBe('BILLING_INACTIVE')
      }
    }
    await meter.close()
    expect(await eventsOf(db, orgId)).toEqual([
      { type: 'credit.low', data: { remaining_micros: '10000' } },
      { type: 'credit.exhausted', data: { remaining_micros: '0' } },
    ])
  })

  test('the monthly limit reached: budget.reached once', async ({ db }) => {
    const { orgId } = await activeOrg(db, { allowance: 1_000_000n, monthlyLimit: 20_000n })
    const meter = makeMeter(db)
    const codes: string[] = []
    for (let i = 0; i < 6; i++) {
      try {
        await meter.meter({ orgId, action: 'save_comment' })
        codes.push('ok')
      } catch (e) {
        codes.push((e as { code: string }).code)
      }
    }
    await meter.close()
    expect(codes).toEqual(['ok', 'ok', 'ok', 'ok', 'SPEND_CAP_REACHED', 'SPEND_CAP_REACHED'])
    const reached = (await eventsOf(db, orgId)).filter((e) => e.type === 'budget.reached')
    expect(reached).toEqual([
      {
        type: 'budget.reached',
        data: { limit_micros: '20000', spent_micros: '20000', window_index: 0 },
      },
    ])
  })

  test('GET /v1/events: paginated both ways, filtered by type, with the re-up link', async ({
    db,
  }) => {
    const api = await startApi(db)
    const signup = await api.call('POST', '/v1/orgs', {
      body: { name: 'events', owner_address: '0x00000000000000000000000000000000000000bb' },
    })
    expect(signup.status).toBe(201)
    const key = signup.json.api_key as string
    const orgId = signup.json.org.id as string
    const subscriptionId = signup.json.subscription_id as string
    for (let i = 0; i < 400; i++) {
      const r = await api.call('POST', '/v1/usage', { key, body: { action: 'save_comment' } })
      if (r.status !== 201) break
    }
    const all = await api.call('GET', '/v1/events?after=0&limit=1', { key })
    expect(all.status).toBe(200)
    expect(all.json.events).toHaveLength(1)
    expect(all.json.events[0].type).toBe('credit.low')
    expect(all.json.events[0].data.manage_url).toBe(`https://tollgate.test/s/${subscriptionId}`)
    expect(all.json.events[0].org_id).toBe(orgId)
    const next = await api.call('GET', `/v1/events${all.json.next}`, { key })
    expect(next.json.events.map((e: { type: string }) => e.type)).toEqual(['credit.exhausted'])
    const newest = await api.call('GET', '/v1/events?type=credit.low', { key })
    expect(newest.json.events.map((e: { type: string }) => e.type)).toEqual(['credit.low'])
    expect(newest.json.next).toBeNull()
    const bad = await api.call('GET', '/v1/events?type=nope', { key })
    expect(bad.status).toBe(400)
    await api.stop()
  })
})
