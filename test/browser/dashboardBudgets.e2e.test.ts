import { join } from 'node:path'
import { AxeBuilder } from '@axe-core/playwright'
import { signInWithSiwe } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { startOwnedOrg } from '../support/startOwnedOrg.js'
import { injectTestWallet, launchBrowser, screenshotDir } from './browser.js'

describe('the dashboard Budgets card in Chromium', () => {
  test('the owner sets a key’s daily budget the meter then holds, an org budget with an override, and removes one; bad amounts change nothing', async ({
    db,
    chain,
  }) => {
    const { api, owner } = await startOwnedOrg(db, chain, { name: 'Budgets' })
    const session = await signInWithSiwe(api, owner)
    const agent = (await api.call('POST', '/v1/keys', { key: session, body: { label: 'crawler' } }))
      .json
    const budgets = async () =>
      (await api.call('GET', '/v1/budgets', { key: session })).json.budgets as {
        key_id: string | null
        period: string
        limit: { micros: string }
        override: { limit: { micros: string }; until: string } | null
      }[]
    const browser = await launchBrowser()
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      const page = await context.newPage()
      await injectTestWallet(page, { account: owner, rpcUrl: chain.rpcUrl })
      await page.goto(`${api.url}/dashboard`)
      await page.click('#signin')
      await page.waitForSelector('#budgets', { state: 'visible' })
      expect(await page.textContent('#bu-list')).toBe(
        'No budgets: only your authorization limits spending.',
      )

      // A bad amount is said in words; nothing is set.
      await page.selectOption('#bu-scope', agent.key.id)
      await page.fill('#bu-limit', '1,000')
      await page.click('#bu-save')
      await expect
        .poll(() => page.textContent('#message'))
        .toBe('Enter the limit in dollars, e.g. 3 or 2.50.')
      expect(await budgets()).toEqual([])

      // $0.01 a UTC day for the crawler's key: two comments ($0.005 each), not a third.
      await page.selectOption('#bu-period', 'day')
      await page.fill('#bu-limit', '0.01')
      await page.click('#bu-save')
      await expect
        .poll(() => page.textContent('#message'))
        .toBe('Saved: Key crawler may spend $0.01 per UTC day; $0.00 spent so far.')
      expect(await budgets()).toMatchObject([
        { key_id: agent.key.id, period: 'day', limit: { micros: '10000' }, override: null },
      ])
      const comment = async (i: number) =>
        await api.call('POST', '/v1/usage', {
          key: agent.api_key,
          body: { action: 'save_comment' },
          headers: { 'idempotency-key': `budget-${i}` },
        })
      expect((await comment(1)).status).toBe(201)
      expect((await comment(2)).status).toBe(201)
      const third = await comment(3)
      expect(third.status).toBe(402)
      expect(third.json.error).toMatchObject({ code: 'SPEND_CAP_REACHED', scope: 'key' })

      // The org a week, raised until tomorrow by an override.
      const until = new Date(Date.now() + 86_400_000)
      const local = new Date(until.getTime() - until.getTimezoneOffset() * 60_000)
        .toISOString()
        .slice(0, 16)
      await page.selectOption('#bu-scope', 'org')
      await page.selectOption('#bu-period', 'week')
      await page.fill('#bu-limit', '5')
      await page.fill('#bu-override', '20')
      await page.fill('#bu-until', local)
      await page.click('#bu-save')
      await expect
        .poll(() => page.textContent('#message'))
        .toMatch(/^Saved: The whole organization may spend \$20\.00 per UTC week; \$0\.01 spent/)
      const set = await budgets()
      expect(set.find((b) => b.key_id === null)).toMatchObject({
        period: 'week',
        limit: { micros: '5000000' },
        override: { limit: { micros: '20000000' } },
      })
      // The table shows both, the key's spend included.
      const rows = await page.locator('#bu-list tr').allTextContents()
      expect(rows).toHaveLength(2)
      expect(rows.find((r) => r.startsWith('Key crawler'))).toContain('$0.01 ($0.00 left)')
      expect(rows.find((r) => r.startsWith('The whole organization'))).toMatch(
        /\$20\.00 until .*, then \$5\.00/,
      )

      const axe = await new AxeBuilder({ page }).include('#budgets').analyze()
      expect(
        axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
      ).toEqual([])
      await page
        .locator('#budgets')
        .screenshot({ path: join(screenshotDir, 'dashboard-budgets.png') })

      // Remove the key's budget: the key spends again.
      await page.click('#bu-list button[aria-label^="Remove the UTC day budget of Key crawler"]')
      await expect
        .poll(() => page.textContent('#message'))
        .toBe('Removed the UTC day budget of Key crawler.')
      expect((await budgets()).map((b) => b.key_id)).toEqual([null])
      expect((await comment(4)).status).toBe(201)
    } finally {
      await browser.close()
      await api.stop()
    }
  })
})
