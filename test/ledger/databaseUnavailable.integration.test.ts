import { randomUUID } from 'node:crypto'
import { statusOf } from '../../src/api/errorStatus.js'
import type { RetryableError } from '../../src/core/errors.js'
import { closeDb, createDb } from '../../src/db/client.js'
import { dbProxy } from '../dbProxy.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, makeMeter } from './helpers.js'

describe('metering while the database drops its connections', () => {
  test('a batch fails as a whole, not once per action: two tries, then every caller gets UNREACHABLE', async ({
    databaseUrl,
  }) => {
    const proxy = await dbProxy(databaseUrl, Number.POSITIVE_INFINITY)
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
        expect([e.code, statusOf(e.code), e.message]).toEqual([
          'UNREACHABLE',
          503,
          'the database could not be reached; retry',
        ])
      }
      // One batch (all 20 queued in one tick go together): tried, then tried once more whole.
      // Each action alone would have cost a connection attempt of its own, 20 more.
      expect(proxy.state.accepted).toBeLessThanOrEqual(4)
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
    const proxy = await dbProxy(databaseUrl, 1)
    const viaProxy = createDb({ url: proxy.url, max: 4 })
    const meter = makeMeter(viaProxy)
    try {
      const outcomes = await Promise.all(
        orgs.map((o) => meter.meter({ orgId: o.orgId, action: 'save_comment' })),
      )
      expect(proxy.state.accepted).toBeGreaterThanOrEqual(2)
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
