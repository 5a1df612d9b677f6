import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { bookCharges, markChargeCollected } from '../../src/ledger/index.js'
import { authorizeSubscription } from '../../src/subscriptions/state/authorizeSubscription.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { launchBrowser, screenshotDir } from './browser.js'

const tx = `0x${'d5'.repeat(32)}`

describe('the dashboard charges ledger in Chromium', () => {
  test('names each charge with the window length the owner signed, and the transaction with a copy button', async ({
    db,
  }) => {
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '0' })
    const browser = await launchBrowser()
    try {
      const wallet = privateKeyToAccount(generatePrivateKey())
      const org = (
        await api.call('POST', '/v1/orgs', {
          body: { name: 'Ledger', owner_address: wallet.address },
        })
      ).json
      // The owner signed 1-day windows.
      await authorizeSubscription(db, {
        orgId: org.org.id,
        subscriptionId: org.subscription_id,
        owner: wallet.address,
        allowance: 50_000_000n,
        windowSeconds: 86_400,
      })
      expect(
        (
          await api.call('POST', '/v1/usage', {
            key: org.api_key,
            body: { action: 'save_comment' },
          })
        ).status,
      ).toBe(201)
      const [charge] = await bookCharges(db, { orgId: org.org.id })
      await markChargeCollected(db, { chargeId: charge!.id, txHash: tx })

      const page = await browser.newPage({ viewport: { width: 420, height: 900 } })
      await page.goto(`${api.url}/dashboard`)
      await page.fill('#apikey', org.api_key)
      await page.press('#apikey', 'Enter')
      await page.waitForSelector('#billing', { state: 'visible' })
      const ledger = (await page.textContent('#ledger'))!
      expect(ledger).toContain('Charge #1 · 1-day window 1')
      expect(ledger).not.toContain('30-day')
      expect(ledger).not.toMatch(/\bseq\b/)
      // The hash is shortened, whole in its title and behind the copy button.
      expect(await page.getAttribute('#ledger code', 'title')).toBe(tx)
      expect(await page.getAttribute('#ledger button.copy', 'aria-label')).toBe(`Copy ${tx}`)
      await page.screenshot({ path: join(screenshotDir, 'dashboard-ledger.png'), fullPage: true })
    } finally {
      await browser.close()
      await api.stop()
    }
  }, 60_000)
})
