import net from 'node:net'
import { createDb, type Db } from '../../src/db/client.js'
import { createMeter, reconcileLedger } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { answered } from '../support/answered.js'
import { activeOrg, config } from './helpers.js'

/**
 * A TCP proxy in front of the test database that can cut a connection at the worst moment:
 * - `swallow`: once the server answers a COMMIT (it has committed), the connection is cut
 *   before that answer reaches the client;
 * - `drop`: the client's bytes holding a COMMIT never reach the server, and the connection is
 *   cut (the server rolls the transaction back);
 * - with `marker` set, the statement whose bytes hold it stands for the COMMIT: a batch on
 *   cached accounts is one statement committed on its own, the only one to carry its org's id;
 * - `down`: every new connection is cut at once (the database cannot be reached).
 * Each of `swallow` and `drop` strikes once, then the proxy turns to `state.afterCut` (passing
 * everything again, unless told otherwise).
 */
async function faultyProxy(databaseUrl: string) {
  const target = new URL(databaseUrl)
  type Mode = 'pass' | 'swallow' | 'drop' | 'down'
  const state = { mode: 'pass' as Mode, afterCut: 'pass' as Mode, cuts: 0, marker: '' }
  const sockets = new Set<net.Socket>()
  const cut = (a: net.Socket, b: net.Socket) => {
    state.cuts++
    state.mode = state.afterCut
    a.destroy()
    b.destroy()
  }
  const server = net.createServer((client) => {
    if (state.mode === 'down') return void client.destroy()
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined)
    }
    // Whether the marked statement went to the server on this connection.
    let marked = false
    client.on('data', (chunk) => {
      const text = chunk.toString('latin1')
      const commits = state.marker ? text.includes(state.marker) : /commit/i.test(text)
      if (state.mode === 'drop' && commits) cut(client, upstream)
      else {
        marked ||= commits
        upstream.write(chunk)
      }
    })
    upstream.on('data', (chunk) => {
      // CommandComplete ('C') with the tag COMMIT — or, after the marked statement, the server
      // ready again outside a transaction ('Z', status 'I'): the transaction is durable.
      const committed = state.marker
        ? marked && chunk.includes('Z\0\0\0\x05I', 0, 'latin1')
        : chunk.includes('COMMIT\0', 0, 'latin1')
      if (state.mode === 'swallow' && committed) cut(client, upstream)
      else client.write(chunk)
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const url = new URL(databaseUrl)
  url.hostname = '127.0.0.1'
  url.port = String((server.address() as net.AddressInfo).port)
  return {
    url: url.toString(),
    state,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}

const price = config.rateCard.prices.save_comment!

const usageOf = async (db: Db, orgId: string) =>
  await db.$client<{ id: bigint }[]>`select id from usage where org_id = ${orgId} order by id`

/** A meter on its own pool through the proxy. */
const meterVia = (url: string, opts: { accountCache?: number; inDoubtMs?: number } = {}) => {
  const db = createDb({ url, max: 2 })
  const meter = createMeter(db, { rateCard: config.rateCard, product: config.product, ...opts })
  const close = async () => {
    await meter.close()
    // Not `closeDb`: the driver keeps a connection the proxy cut as busy, and would wait out
    // its 5 s for it.
    await db.$client.end({ timeout: 0.2 })
  }
  return { meter, close }
}

// A batch's COMMIT was sent and its answer never came (the connection died): it may have
// committed or not. The engine must find out which — never record its actions a second time
// (an action without an idempotency key has nothing else to stop that), never lose them.
describe('a batch whose COMMIT goes unanswered', () => {
  for (const path of ['cached', 'locked'] as const) {
    test(`committed on the server (${path}): answered once, recorded once`, async ({
      db,
      databaseUrl,
    }) => {
      const proxy = await faultyProxy(databaseUrl)
      const { meter, close } = meterVia(proxy.url, path === 'locked' ? { accountCache: 0 } : {})
      try {
        const { orgId } = await activeOrg(db, { allowance: 1_000_000n })
        const first = await meter.meter({ orgId, action: 'save_comment' })
        // With the cache on, the org's next batch is decided on its cached account.
        const second = await meter.meter({ orgId, action: 'save_comment' })
        expect(meter.stats.cached).toBe(path === 'cached' ? 1 : 0)
        if (path === 'cached') proxy.state.marker = orgId
        proxy.state.mode = 'swallow'
        const third = await meter.meter({ orgId, action: 'save_comment' })
        expect(proxy.state.cuts).toBe(1)
        expect(meter.stats).toMatchObject({ inDoubt: 1, batches: 3 })
        const rows = await usageOf(db, orgId)
        expect(rows.map((r) => r.id.toString())).toEqual([
          first.usageId,
          second.usageId,
          third.usageId,
        ])
        expect(third.billableMicros).toBe(price.toString())
        const entries = await db.$client<
          { n: bigint }[]
        >`select count(*) as n from ledger_entries where org_id = ${orgId} and kind = 'usage_billable'`
        expect(entries[0]!.n).toBe(3n)
        expect(await reconcileLedger(db, { orgId })).toEqual([])
        // The engine goes on as before.
        await meter.meter({ orgId, action: 'save_comment' })
        expect((await usageOf(db, orgId)).length).toBe(4)
      } finally {
        await close()
        await proxy.close()
      }
    })
  }

  test('never reached the server: decided again, recorded once', async ({ db, databaseUrl }) => {
    const proxy = await faultyProxy(databaseUrl)
    const { meter, close } = meterVia(proxy.url)
    try {
      const { orgId } = await activeOrg(db, { allowance: 1_000_000n })
      await meter.meter({ orgId, action: 'save_comment' })
      // Cached: the batch's one statement never reaches the server.
      proxy.state.marker = orgId
      proxy.state.mode = 'drop'
      const second = await meter.meter({ orgId, action: 'save_comment' })
      expect(proxy.state.cuts).toBe(1)
      expect(meter.stats.inDoubt).toBe(1)
      const rows = await usageOf(db, orgId)
      expect(rows.length).toBe(2)
      expect(rows[1]!.id.toString()).toBe(second.usageId)
      expect(await reconcileLedger(db, { orgId })).toEqual([])
    } finally {
      await close()
      await proxy.close()
    }
  })

  test('the database stays out of reach: the callers are told the outcome is unknown, and it is voided later', async ({
    db,
    databaseUrl,
  }) => {
    const proxy = await faultyProxy(databaseUrl)
    const { meter, close } = meterVia(proxy.url, { inDoubtMs: 500 })
    try {
      const { orgId } = await activeOrg(db, { allowance: 1_000_000n })
      await meter.meter({ orgId, action: 'save_comment' })
      proxy.state.marker = orgId
      proxy.state.mode = 'swallow'
      proxy.state.afterCut = 'down'
      const error = await meter.meter({ orgId, action: 'save_comment' }).catch((e) => e)
      expect(answered(error)).toMatchObject({ code: 'METERING_IN_DOUBT', status: 503 })
      // It had committed, once; its caller was told it failed.
      const rows = await usageOf(db, orgId)
      expect(rows.length).toBe(2)
      // Once the database answers again, the engine voids it: nothing stays charged for it.
      proxy.state.mode = 'pass'
      proxy.state.afterCut = 'pass'
      proxy.state.marker = ''
      for (let i = 0; i < 100; i++) {
        const [u] = await db.$client<{ status: string }[]>`
          select status from usage where id = ${rows[1]!.id.toString()}`
        if (u!.status === 'voided') break
        await new Promise((r) => setTimeout(r, 100))
      }
      const [after] = await db.$client<{ status: string; accrued: bigint }[]>`
        select u.status, a.accrued from usage u join billing_accounts a using (org_id)
        where u.id = ${rows[1]!.id.toString()}`
      expect(after).toEqual({ status: 'voided', accrued: price })
      expect(await reconcileLedger(db, { orgId })).toEqual([])
      await meter.meter({ orgId, action: 'save_comment' })
      expect((await usageOf(db, orgId)).length).toBe(3)
    } finally {
      await close()
      await proxy.close()
    }
  })
})
