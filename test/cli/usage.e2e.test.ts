import { createApiKey } from '../../src/api/keys.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg } from '../ledger/helpers.js'
import { tollgate } from './run.js'

type Money = { micros: string; usd: string }
type Totals = { calls: number; total: Money; voucher: Money }

const esc = (s: string) => s.replace(/[$.*+?^()[\]{}|\\]/g, '\\$&')
/** A table row of the human output: its cells in order, separated by the table's spaces. */
const row = (...cells: (string | number)[]) =>
  new RegExp(`^${cells.map((c) => esc(String(c))).join('\\s+')}(\\s+#+)?$`, 'm')
const figures = (t: Totals) => [t.calls, t.total.usd, t.voucher.usd]

// Each run starts Node and loads the sources (~5 s apiece, far more on a busy two-core machine).
describe('tollgate billing usage', { timeout: 400_000 }, () => {
  test('prints what GET /v1/billing/usage answers: --json the same document, the words the same figures', async ({
    db,
    databaseUrl,
  }) => {
    // Usage metered through the API by two keys, part of it paid from the signup credit.
    const { orgId } = await activeOrg(db, {
      credit: 10_000n,
      allowance: 10_000_000n,
      monthlyLimit: 2_000_000n,
    })
    const api = await startApi(db)
    try {
      const scraper = await createApiKey(db, { orgId, label: 'scraper' })
      const reporter = await createApiKey(db, { orgId, label: 'reporter' })
      const meter = async (key: string, action: string, n: number) => {
        for (let i = 0; i < n; i++)
          expect(
            (await api.call('POST', '/v1/usage', { key, body: { action } })).status,
          ).toBeLessThan(300)
      }
      await meter(scraper.key, 'claim_issue', 3)
      await meter(reporter.key, 'save_comment', 2)
      await meter(reporter.key, 'heartbeat', 4)
      const endpoint = async (query: string) => {
        const res = await api.call('GET', `/v1/billing/usage?${query}`, { key: scraper.key })
        expect(res.status).toBe(200)
        return res.json
      }
      const env = { DATABASE_URL: databaseUrl }

      // The runs only read, so they go at once (each starts Node and loads the sources).
      const today = new Date().toISOString().slice(0, 10)
      const usage = (...args: string[]) =>
        tollgate(['billing', 'usage', '--org', orgId, ...args], env)
      const [week, month, custom, human, noDays, bad] = await Promise.all([
        usage('--period', '7d', '--json'),
        usage('--json'),
        usage('--period', 'custom', '--from', today, '--to', today),
        usage('--period', 'window'),
        usage('--period', 'custom'),
        usage('--period', '90d'),
      ])

      // --json is the endpoint's document (30 days unless told).
      for (const [out, query] of [
        [week, 'period=7d'],
        [month, 'period=30d'],
      ] as const) {
        expect(out.stderr).toBe('')
        expect(out.code).toBe(0)
        expect(JSON.parse(out.stdout)).toEqual(await endpoint(query))
      }
      expect(custom.code).toBe(0)
      const c = await endpoint(`period=custom&from=${today}&to=${today}`)
      expect(c.days).toHaveLength(1)
      expect(custom.stdout).toMatch(row(today, ...figures(c.days[0])))

      // The words: the same figures as the endpoint, in dollars.
      expect(human.stderr).toBe('')
      expect(human.code).toBe(0)
      const u = await endpoint('period=window')
      const text = human.stdout
      expect(u.totals.calls).toBe(9)
      expect(u.totals.voucher.micros).toBe('10000')
      expect(text).toContain(
        `${u.totals.total.usd} over 9 calls (${u.totals.billable.usd} billed, $0.01 from signup credit)`,
      )
      expect(text).toContain(
        `${u.window.spent.usd} spent of the $2.00 monthly limit (${(BigInt(u.window.spent.micros) * 100n) / 2_000_000n}%)`,
      )
      expect(text).toMatch(
        new RegExp(
          `^lifetime cap\\s+${esc(`$10.00: $0.00 collected, ${u.cap.accrued.usd} owed, ${u.cap.remaining.usd} left`)}`,
          'm',
        ),
      )
      for (const d of u.days) expect(text).toMatch(row(d.day, ...figures(d)))
      expect(u.by_action.map((a: { action: string }) => a.action)).toEqual([
        'claim_issue',
        'save_comment',
        'heartbeat',
      ])
      for (const a of u.by_action) expect(text).toMatch(row(a.action, a.tier, ...figures(a)))
      for (const t of u.by_tier) expect(text).toMatch(row(t.tier, ...figures(t)))
      expect(u.by_key).toHaveLength(2)
      for (const k of u.by_key) expect(text).toMatch(row(k.prefix, k.label, ...figures(k)))
      // Today's bar is the period's longest: the busiest (only) day.
      expect(text).toMatch(new RegExp(`^${today}.*\\s#{24}$`, 'm'))

      // A period the endpoint refuses is refused here too, as bad usage (exit 2), naming why.
      expect(noDays.code).toBe(2)
      expect(noDays.stderr).toMatch(/period=custom takes from and to/)
      expect(bad.code).toBe(2)
      expect(bad.stderr).toMatch(/^billing usage: --period: /)
      expect(bad.stdout).toBe('')
    } finally {
      await api.stop()
    }
  })
})
