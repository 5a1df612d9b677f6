import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { getBillingSummary } from '../../src/ledger/index.js'
import { indexChain } from '../../src/settlement/indexChain.js'
import { signManageToken } from '../../src/web/session.js'
import { describe, expect, test } from '../fixtures.js'
import { meterThenSettle } from '../support/meterThenSettle.js'
import { startOwnedOrg } from '../support/startOwnedOrg.js'
import { injectTestWallet, launchBrowser, screenshotDir } from './browser.js'

describe('the hosted manage page in Chromium', () => {
  test('authorize → usage settles → history shows the pull; needs_reauth → re-authorize; monthly limit; cancel', async ({
    db,
    chain,
  }) => {
    const { api, owner, org } = await startOwnedOrg(db, chain, {
      name: 'Browser',
      usdc: 50_000_000n,
    })
    const sub = org.subscription_id
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage({ viewport: { width: 420, height: 900 } })
      const prompts: string[] = []
      await injectTestWallet(page, {
        account: owner,
        rpcUrl: chain.rpcUrl,
        onRequest: (m, params) =>
          m === 'eth_signTypedData_v4' && prompts.push(String((params as string[])[1])),
      })
      await page.goto(`${api.url}/s/${sub}`)
      await expect.poll(() => page.getAttribute('#state', 'data-state')).toBe('pending')
      expect(await page.isVisible('#owner')).toBe(false)
      // No empty box makes a gap under the state words (an empty status line takes no room).
      const emptyBoxes = () =>
        page.$$eval('main > *', (els) =>
          els
            .filter((e) => (e as HTMLElement).offsetHeight > 0 && !e.textContent?.trim())
            .map((e) => e.id || e.tagName),
        )
      expect(await emptyBoxes()).toEqual([])
      await page.click('#connect')
      await page.waitForSelector('#owner', { state: 'visible' })
      await page.fill('#cap', '2')
      await page.click('#sign-authorize')
      await expect
        .poll(() => page.getAttribute('#state', 'data-state'), { timeout: 15_000 })
        .toMatch(/^active/)
      // The wallet prompt names the token's domain and shows the amount in base units.
      expect(JSON.parse(prompts[0]!)).toMatchObject({
        domain: { name: 'USD Coin', version: '2' },
        primaryType: 'Permit',
        message: { value: '2000000' },
      })
      expect(await page.textContent('#f-cap')).toBe('$2.00')
      expect(await emptyBoxes()).toEqual([])
      await page.screenshot({ path: join(screenshotDir, 'manage-authorized.png'), fullPage: true })

      // Agents work; the threshold is crossed; the worker pulls; the page shows the transaction.
      // The $2 signup credit goes first, then $1.05 is billable.
      const { ctx, report } = await meterThenSettle(db, chain, api, {
        orgId: org.org.id,
        key: org.api_key,
        calls: 436,
      })
      expect(report.collected).toBe(1)
      await indexChain(ctx)
      await page.reload()
      await page.waitForSelector('#payments tr')
      expect(await page.textContent('#payments tr td:nth-child(2)')).toBe('$1.052')
      expect(await page.getAttribute('#payments tr', 'data-tx')).toBe(report.txHashes[0])
      await page.screenshot({ path: join(screenshotDir, 'manage-history.png'), fullPage: true })

      // Drawn down: the next action that does not fit moves to needs_reauth.
      let refused: { status: number } | undefined
      for (let i = 0; i < 200 && !refused; i++) {
        const r = await api.call('POST', '/v1/usage', {
          key: org.api_key,
          body: { action: 'claim_issue' },
        })
        if (r.status === 402) refused = r
      }
      expect(refused).toBeDefined()
      await page.reload()
      await expect.poll(() => page.getAttribute('#state', 'data-state')).toContain('needs_reauth')
      await page.fill('#cap', '10')
      await page.fill('#limit', '3')
      await page.click('#sign-authorize')
      await expect
        .poll(() => page.getAttribute('#state', 'data-state'), { timeout: 15_000 })
        .toMatch(/^active/)
      expect(await page.textContent('#f-cap')).toBe('$10.00')
      expect(await page.textContent('#f-monthly_limit')).toBe('$3.00')
      // Shown only while a charge waits for room under the monthly limit.
      expect(await page.isHidden('#limit-waiting')).toBe(true)
      expect((await getBillingSummary(db, org.org.id)).subscriptionId).toBe(sub)
      await page.screenshot({
        path: join(screenshotDir, 'manage-reauthorized.png'),
        fullPage: true,
      })

      // A stranger's wallet sees the state but no amounts or controls.
      const strangerPage = await browser.newPage()
      await injectTestWallet(strangerPage, {
        account: privateKeyToAccount(generatePrivateKey()),
        rpcUrl: chain.rpcUrl,
      })
      await strangerPage.goto(`${api.url}/s/${sub}`)
      await strangerPage.click('#connect')
      await expect.poll(() => strangerPage.textContent('#message')).toMatch(/only the owner/i)
      expect(await strangerPage.isVisible('#owner')).toBe(false)
      // An expired manage link shows no amounts either; a fresh one does.
      const expired = await (
        await fetch(
          `${api.url}/s/${sub}/state?t=${signManageToken(api.ctx.config, sub, 'link', -1)}`,
        )
      ).json()
      expect(expired.owner_view).toBe(false)
      const fresh = await (
        await fetch(
          `${api.url}/s/${sub}/state?t=${signManageToken(api.ctx.config, sub, 'link', 60)}`,
        )
      ).json()
      expect(fresh).toMatchObject({ owner_view: true, cap: '$10.00' })

      // Cancel by signature: accrued usage is collected first, then the collector cancels.
      await page.click('#cancel')
      await page.click('#cancel-yes')
      await expect
        .poll(() => page.getAttribute('#state', 'data-state'), { timeout: 20_000 })
        .toContain('canceled')
      await page.screenshot({ path: join(screenshotDir, 'manage-canceled.png'), fullPage: true })
      const s = await getBillingSummary(db, org.org.id)
      expect(s).toMatchObject({ state: 'canceled', accrued: 0n, booked: 0n })
    } finally {
      await browser.close()
      await api.stop()
    }
  }, 120_000)
})
