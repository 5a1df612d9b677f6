import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { signManageToken } from '../../src/web/session.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { attachChain, launchBrowser, screenshotDir } from './browser.js'

describe('the usage table on the hosted manage page in Chromium', () => {
  test('tiers are named as the spec names them to owners, never the rate card keys', async ({
    db,
    chain,
  }) => {
    const api = await startApi(db)
    attachChain(api, chain)
    const browser = await launchBrowser()
    try {
      const org = (
        await api.call('POST', '/v1/orgs', {
          body: { name: 'Tiers', owner_address: privateKeyToAccount(generatePrivateKey()).address },
        })
      ).json
      for (const action of ['claim_issue', 'heartbeat', 'save_comment'])
        expect(
          (await api.call('POST', '/v1/usage', { key: org.api_key, body: { action } })).status,
        ).toBe(201)
      const sub: string = org.subscription_id
      const page = await browser.newPage({ viewport: { width: 420, height: 900 } })
      await page.goto(`${api.url}/s/${sub}?t=${signManageToken(api.ctx.config, sub, 'link', 60)}`)
      await page.waitForSelector('#owner', { state: 'visible' })
      await expect.poll(() => page.locator('#by-action tr').count()).toBe(3)
      const rows = await page.$$eval('#by-action tr', (trs) =>
        trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent]),
      )
      expect(Object.fromEntries(rows)).toEqual({
        claim_issue: 'Moat (dispatch)',
        heartbeat: 'Plumbing (sub-floor)',
        save_comment: 'Work',
      })
      const table = (await page.textContent('#by-action'))!
      expect(table).not.toMatch(/\bmoat\b|subfloor/)
      await page
        .locator('section[aria-labelledby="usage-title"]')
        .screenshot({ path: join(screenshotDir, 'manage-usage-tiers.png') })
    } finally {
      await browser.close()
      await api.stop()
    }
  })
})
