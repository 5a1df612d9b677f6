import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { signManageToken } from '../../src/web/session.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { planUsed } from '../support/planUsed.js'
import { attachChain, launchBrowser, screenshotDir } from './browser.js'

describe('the plan line on the hosted manage page in Chromium', () => {
  test('an org with a plan sees "$0.40 of $1.00 used, renews 1 <month>", as on the dashboard; one without sees no line', async ({
    db,
    chain,
  }) => {
    // No signup credit: the plan's allowance is the first thing usage draws.
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '0' })
    attachChain(api, chain)
    const newOrg = async (name: string) =>
      (
        await api.call('POST', '/v1/orgs', {
          body: { name, owner_address: privateKeyToAccount(generatePrivateKey()).address },
        })
      ).json
    const planned = await newOrg('Planned')
    const plain = await newOrg('Plain')
    const line = await planUsed(db, api, { orgId: planned.org.id, key: planned.api_key })
    const browser = await launchBrowser()
    try {
      // The owner opens the page through a fresh manage link (as the dashboard's Manage does).
      const open = async (sub: string) => {
        const page = await browser.newPage({ viewport: { width: 420, height: 900 } })
        await page.goto(`${api.url}/s/${sub}?t=${signManageToken(api.ctx.config, sub, 'link', 60)}`)
        await page.waitForSelector('#owner', { state: 'visible' })
        return page
      }
      const page = await open(planned.subscription_id)
      await expect.poll(() => page.textContent('#f-included')).toBe(line)
      expect(await page.isVisible('dt.plan')).toBe(true)
      // Each amount keeps its exact micro-credits on hover, as every amount on the page does.
      expect(await page.getAttribute('#f-included span', 'title')).toMatch(/^400000 micro-credits/)
      // The same line as the dashboard's, from the same view: GET /v1/billing's plan.
      const billing = await api.call('GET', '/v1/billing', { key: planned.api_key })
      expect(billing.json.plan).toMatchObject({
        used: { micros: '400000', usd: '$0.40' },
        included_monthly: { micros: '1000000', usd: '$1.00' },
      })
      await page.screenshot({ path: join(screenshotDir, 'manage-plan.png'), fullPage: true })

      const none = await open(plain.subscription_id)
      await expect.poll(() => none.textContent('#f-signup_credit')).toBe('$0.00')
      expect(await none.isHidden('#f-included')).toBe(true)
      expect(await none.isHidden('dt.plan')).toBe(true)
    } finally {
      await browser.close()
      await api.stop()
    }
  })
})
