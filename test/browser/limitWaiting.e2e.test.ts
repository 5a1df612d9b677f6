import { join } from 'node:path'
import { createApiKey } from '../../src/api/keys.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { chargeOverCutLimit } from '../settlement/helpers.js'
import { attachChain, injectTestWallet, launchBrowser, screenshotDir } from './browser.js'

describe('a charge waiting for the monthly limit, in Chromium', () => {
  test('the dashboard card and the manage page say it waits, and that only a higher limit lets it be collected', async ({
    db,
    chain,
  }) => {
    // $0.014 booked, then the owner cuts the limit to $0.010 on-chain: the collector refuses it.
    const { meter, org, refused } = await chargeOverCutLimit(db, chain)
    const api = await startApi(db)
    attachChain(api, chain)
    const browser = await launchBrowser()
    try {
      expect(refused.failed.map((f) => f.reason)).toEqual(['limit'])

      // A member's key on the dashboard.
      const { key } = await createApiKey(db, { orgId: org.orgId })
      const member = await browser.newPage()
      await member.goto(`${api.url}/dashboard`)
      await member.fill('#apikey', key)
      await member.click('#keysignin')
      await member.waitForSelector('#billing', { state: 'visible' })
      expect(await member.isVisible('#b-waiting')).toBe(true)
      expect(await member.textContent('#b-waiting')).toBe(
        '$0.014 — larger than the monthly budget: it is collected once the owner raises the budget',
      )
      await member.screenshot({
        path: join(screenshotDir, 'dashboard-waiting-for-budget.png'),
        fullPage: true,
      })

      // The owner on the manage page.
      const page = await browser.newPage({ viewport: { width: 420, height: 900 } })
      await injectTestWallet(page, { account: org.owner, rpcUrl: chain.rpcUrl })
      await page.goto(`${api.url}/s/${org.subscriptionId}`)
      await page.click('#connect')
      await page.waitForSelector('#owner', { state: 'visible' })
      expect(await page.textContent('#f-monthly_limit')).toBe('$0.01')
      expect(await page.isVisible('#limit-waiting')).toBe(true)
      expect(await page.textContent('#limit-waiting')).toBe(
        '$0.014 of charges waits: it is more than your monthly limit. Raise the limit to let it be collected.',
      )
      await page.screenshot({
        path: join(screenshotDir, 'manage-waiting-for-limit.png'),
        fullPage: true,
      })
    } finally {
      await browser.close()
      await api.stop()
      await meter.close()
    }
  })
})
