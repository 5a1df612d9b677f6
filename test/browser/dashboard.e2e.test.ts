import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { setPlan } from '../../src/ledger/index.js'
import { verifyManageToken } from '../../src/web/session.js'
import { describe, expect, test } from '../fixtures.js'
import { startOwnedOrg } from '../support/startOwnedOrg.js'
import { injectTestWallet, launchBrowser, screenshotDir } from './browser.js'

describe('the dashboard Billing card in Chromium', () => {
  test('the owner signs in with Ethereum and sees the card; Manage mints a fresh link; the org picker switches; cross-site writes are refused; a member (keyboard only) sees status without controls; a stranger is refused', async ({
    db,
    chain,
  }) => {
    const { api, owner, org } = await startOwnedOrg(db, chain, { name: 'Dash' })
    const key = org.api_key
    for (let i = 0; i < 3; i++)
      expect(
        (await api.call('POST', '/v1/usage', { key, body: { action: 'claim_issue' } })).status,
      ).toBe(201)
    // The operator gave the first org a plan: $1 included each month (docs/plans.md).
    await setPlan(db, { orgId: org.org.id, includedMonthlyMicros: 1_000_000n })
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage({ viewport: { width: 420, height: 900 } })
      await injectTestWallet(page, { account: owner, rpcUrl: chain.rpcUrl })
      await page.goto(`${api.url}/dashboard`)
      await page.click('#signin')
      await page.waitForSelector('#billing', { state: 'visible' })
      expect(await page.getAttribute('#b-status', 'data-state')).toBe('pending')
      // The header names the wallet once, checksummed like every other address on the page.
      await expect.poll(() => page.isVisible('#signin-forms')).toBe(false)
      expect((await page.textContent('body'))!.split('Signed in as')).toHaveLength(2)
      expect(await page.textContent('#who')).toMatch(/^Signed in as /)
      expect(await page.getAttribute('#who code', 'title')).toBe(owner.address)
      expect(await page.textContent('#b-credit')).toBe('$1.979')
      expect(await page.textContent('#b-cap')).toBe('$0.00')
      const now = new Date()
      const renews = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))
      const month = renews.toLocaleString('en', { month: 'short', timeZone: 'UTC' })
      expect(await page.textContent('#b-included')).toBe(`$0.00 of $1.00 used, renews 1 ${month}`)
      // Shown only while a charge waits for the owner's monthly budget.
      expect(await page.isHidden('#b-waiting')).toBe(true)
      expect(await page.textContent('#payments')).toBe('No on-chain payments yet.')
      expect(await page.textContent('#ledger')).toBe('No charges yet.')
      // Nothing runs out of the card on a phone-width screen (the owner's address wraps).
      expect(
        await page.evaluate(() => {
          const card = document.querySelector('#billing')!
          return card.scrollWidth - card.clientWidth
        }),
      ).toBe(0)
      await page.screenshot({ path: join(screenshotDir, 'dashboard-billing.png'), fullPage: true })
      // Manage opens the hosted page through a fresh, short-lived link.
      const navigation = page.waitForRequest((r) => r.url().startsWith('https://tollgate.test/s/'))
      await page.route('https://tollgate.test/**', (route) => route.abort())
      await page.click('#manage')
      const url = new URL((await navigation).url())
      expect(url.pathname).toBe(`/s/${org.subscription_id}`)
      expect(
        verifyManageToken(api.ctx.config, url.searchParams.get('t')!, org.subscription_id),
      ).toBe('link')

      // The same wallet owns a second org: the picker switches the card without a new signature.
      const second = (
        await api.call('POST', '/v1/orgs', {
          body: { name: 'Second', owner_address: owner.address },
        })
      ).json
      const again = await browser.newPage({ viewport: { width: 420, height: 900 } })
      await injectTestWallet(again, { account: owner, rpcUrl: chain.rpcUrl })
      await again.goto(`${api.url}/dashboard`)
      await again.click('#signin')
      await again.waitForSelector('#org-picker', { state: 'visible' })
      expect(await again.textContent('#b-credit')).toBe('$1.979')
      await again.selectOption('#org', second.org.id)
      await expect.poll(() => again.textContent('#message')).toBe('Showing Second.')
      expect(await again.textContent('#b-credit')).toBe(
        second.signup_credit === null ? '$0.00' : second.signup_credit.usd,
      )
      expect(await again.textContent('#b-accrued')).toBe('$0.00')
      // The second org has no plan: no line for it.
      expect(await again.isHidden('#b-included')).toBe(true)

      // A cross-site request riding the owner's session cookie is refused; the same request
      // from this site goes through.
      const session = (await again.context().cookies()).find((c) => c.name === 'tg_session')!
      const forged = await api.call('POST', '/v1/billing/manage-link', {
        body: {},
        headers: { cookie: `tg_session=${session.value}`, origin: 'https://evil.example' },
      })
      expect(forged.status).toBe(403)
      expect(forged.json.error.code).toBe('CROSS_SITE_REQUEST')
      const crossSite = await api.call('POST', '/v1/billing/manage-link', {
        body: {},
        headers: { cookie: `tg_session=${session.value}`, 'sec-fetch-site': 'cross-site' },
      })
      expect(crossSite.status).toBe(403)
      const sameSite = await api.call('POST', '/v1/billing/manage-link', {
        body: {},
        headers: { cookie: `tg_session=${session.value}`, origin: api.url },
      })
      expect(sameSite.status).toBe(201)

      // A member signs in with an API key: the status and figures, no controls.
      const member = await browser.newPage({ viewport: { width: 420, height: 900 } })
      await member.goto(`${api.url}/dashboard`)
      // Keyboard only: Tab to the labelled key field, type, Enter.
      expect(await member.getAttribute('#apikey', 'type')).toBe('password')
      for (let i = 0; i < 10; i++) {
        if ((await member.evaluate(() => document.activeElement?.id)) === 'apikey') break
        await member.keyboard.press('Tab')
      }
      expect(await member.evaluate(() => document.activeElement?.id)).toBe('apikey')
      await member.keyboard.type(key)
      await member.keyboard.press('Enter')
      await member.waitForSelector('#billing', { state: 'visible' })
      expect(await member.getAttribute('#b-status', 'data-state')).toBe('pending')
      expect(await member.textContent('#b-accrued')).toBe('$0.00')
      expect(await member.isVisible('#manage')).toBe(false)
      expect(await member.isVisible('#org-picker')).toBe(false)
      expect(await member.textContent('#role-note')).toMatch(/member.*only an owner/)
      expect(await member.inputValue('#apikey')).toBe('')
      await member.screenshot({ path: join(screenshotDir, 'dashboard-member.png'), fullPage: true })
      // And the server holds the line too: a member key cannot mint a manage link.
      const refused = await api.call('POST', '/v1/billing/manage-link', { key, body: {} })
      expect(refused.status).toBe(403)
      expect(refused.json.error.code).toBe('FORBIDDEN')

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
