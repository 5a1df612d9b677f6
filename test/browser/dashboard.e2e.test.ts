import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { verifyManageToken } from '../../src/web/session.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { attachChain, injectTestWallet, launchBrowser, screenshotDir } from './browser.js'

describe('the dashboard Billing card in Chromium', () => {
  test('the owner signs in with Ethereum and sees the card; Manage mints a fresh link; a stranger is refused', async ({
    db,
    chain,
  }) => {
    const api = await startApi(db)
    attachChain(api, chain)
    const owner = privateKeyToAccount(generatePrivateKey())
    const org = (
      await api.call('POST', '/v1/orgs', { body: { name: 'Dash', owner_address: owner.address } })
    ).json
    const key = org.api_key
    for (let i = 0; i < 3; i++)
      expect(
        (await api.call('POST', '/v1/usage', { key, body: { action: 'claim_issue' } })).status,
      ).toBe(201)
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage({ viewport: { width: 420, height: 900 } })
      await injectTestWallet(page, { account: owner, rpcUrl: chain.rpcUrl })
      await page.goto(`${api.url}/dashboard`)
      await page.click('#signin')
      await page.waitForSelector('#billing', { state: 'visible' })
      expect(await page.textContent('#b-status')).toBe('pending')
      expect(await page.textContent('#b-credit')).toBe('$1.979')
      expect(await page.textContent('#b-cap')).toBe('$0.00')
      await page.screenshot({ path: join(screenshotDir, 'dashboard-billing.png'), fullPage: true })
      // Manage opens the hosted page through a fresh, short-lived link.
      const navigation = page.waitForRequest((r) => r.url().startsWith('https://tollgate.test/s/'))
      await page.route('https://tollgate.test/**', (route) => route.abort())
      await page.click('#manage')
      const url = new URL((await navigation).url())
      expect(url.pathname).toBe(`/s/${org.subscription_id}`)
      expect(verifyManageToken(url.searchParams.get('t')!, org.subscription_id)).toBe('link')

      const stranger = await browser.newPage()
      await injectTestWallet(stranger, {
        account: privateKeyToAccount(generatePrivateKey()),
        rpcUrl: chain.rpcUrl,
      })
      await stranger.goto(`${api.url}/dashboard`)
      await stranger.click('#signin')
      await expect.poll(() => stranger.textContent('#message')).toMatch(/no such org/)
      expect(await stranger.isVisible('#billing')).toBe(false)
    } finally {
      await browser.close()
      await api.stop()
    }
  }, 60_000)
})
