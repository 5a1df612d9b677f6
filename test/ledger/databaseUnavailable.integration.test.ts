import { randomUUID } from 'node:crypto'
import net from 'node:net'
import { closeDb, createDb, socketPath } from '../../src/db/client.js'
import type { RetryableError } from '../../src/errors.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, makeMeter } from './helpers.js'

/**
 * A TCP port in front of the test database that resets (RST) the first `reset` connections it
 * accepts — a database that drops every connection — and forwards the rest; it counts them all.
 */
async function flakyProxy(databaseUrl: string, reset: number) {
  const { url, path } = socketPath(databaseUrl)
  const target = new URL(url)
  const sockets = new Set<net.Socket>()
  let accepted = 0
  const server = net.createServer((client) => {
    sockets.add(client)
    if (++accepted <= reset) return client.resetAndDestroy()
    const db = path ? net.connect(path) : net.connect(Number(target.port), target.hostname)
    sockets.add(db)
    client.pipe(db).pipe(client)
    client.on('error', () => db.destroy())
    db.on('error', () => client.destroy())
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const via = new URL(url)
  via.hostname = '127.0.0.1'
  via.port = String((server.address() as net.AddressInfo).port)
  return {
    url: via.toString(),
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((ok) => server.close(ok))
    },
  }
}

describe('metering while the database drops its connections', () => {
  test('a batch fails as a whole, not once per action: two tries, then every caller gets UNREACHABLE', async ({
    databaseUrl,
  }) => {
    const proxy = await flakyProxy(databaseUrl, Number.POSITIVE_INFINITY)
    const db = createDb({ url: proxy.url, max: 4 })
    const meter = makeMeter(db)
    try {
      const settled = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          meter.meter({ orgId: randomUUID(), action: 'save_comment' }),
        ),
      )
      for (const s of settled) {
        expect(s.status).toBe('rejected')
        const e = (s as PromiseRejectedResult).reason as RetryableError
        expect([e.code, e.status, e.message]).toEqual([
          'UNREACHABLE',
          503,
          'the database could not be reached; retry',
        ])
      }
      // One batch (all 20 queued in one tick go together): tried, then tried once more whole.
      // Each action alone would have cost a connection attempt of its own, 20 more.
      expect(proxy.accepted()).toBeLessThanOrEqual(4)
      expect(meter.stats.batches).toBe(0)
    } finally {
      await meter.close()
      await closeDb(db)
      await proxy.close()
    }
  })

  test('one dropped connection costs nothing: the batch goes again whole and every action is recorded once', async ({
    db,
    databaseUrl,
  }) => {
    const orgs = await Promise.all(
      Array.from({ length: 20 }, () => activeOrg(db, { allowance: 10_000_000n })),
    )
    const proxy = await flakyProxy(databaseUrl, 1)
    const viaProxy = createDb({ url: proxy.url, max: 4 })
    const meter = makeMeter(viaProxy)
    try {
      const outcomes = await Promise.all(
        orgs.map((o) => meter.meter({ orgId: o.orgId, action: 'save_comment' })),
      )
      expect(proxy.accepted()).toBeGreaterThanOrEqual(2)
      expect(outcomes.map((o) => o.status)).toEqual(orgs.map(() => 'recorded'))
      const rows = await db.$client<{ org_id: string; n: number }[]>`
        select org_id, count(*)::int as n from usage
        where org_id = any(${orgs.map((o) => o.orgId)}::uuid[]) group by org_id`
      expect(rows.map((r) => r.n)).toEqual(orgs.map(() => 1))
    } finally {
      await meter.close()
      await closeDb(viaProxy)
      await proxy.close()
    }
  })
})
