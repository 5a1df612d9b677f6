import { join } from 'node:path'
import { AxeBuilder } from '@axe-core/playwright'
import { readAutoTopUp } from '../../src/ledger/index.js'
import { signInWithSiwe } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { startOwnedOrg } from '../support/startOwnedOrg.js'
import { launchBrowser, openManageSignedIn, screenshotDir } from './browser.js'

describe('the manage page: how the owner pays', () => {
  test('the owner chooses prepaid, sets and turns off the auto top-up; bad amounts change nothing', async ({
    db,
    chain,
  }) => {
    const { api, owner, org } = await startOwnedOrg(db, chain, { name: 'Pay mode' })
    const sub = org.subscription_id
    const mode = async () =>
      (
        await db.$client<{ m: string }[]>`
          select billing_mode as m from billing_accounts where org_id = ${org.org.id}`
      )[0]!.m
    const browser = await launchBrowser()
    try {
      const page = await openManageSignedIn(browser, { url: api.url, sub, owner, chain })
      await page.waitForSelector('#pay-mode', { state: 'visible' })
      // Postpaid by default: the balance and the auto top-up are not offered.
      expect(await page.isChecked('#pay-mode input[value="postpaid"]')).toBe(true)
      expect(await page.isVisible('#prepaid-balance')).toBe(false)
      expect(await page.isVisible('#auto-top-up')).toBe(false)

      await page.check('#pay-mode input[value="prepaid"]')
      await page.click('#pay-mode-save')
      await expect
        .poll(() => page.textContent('#message'))
        .toBe('Prepaid: usage now draws from your balance ($0.00).')
      expect(await mode()).toBe('prepaid')
      expect(await page.textContent('#f-prepaid')).toBe('$0.00')
      await page.waitForSelector('#auto-top-up', { state: 'visible' })
      expect(await page.textContent('#auto-top-up-status')).toMatch(/^Off:/)

      // A bad amount is said in words and sets nothing.
      await page.fill('#auto-threshold', '2')
      await page.fill('#auto-amount', '-5')
      await page.click('#auto-save')
      await expect
        .poll(() => page.textContent('#message'))
        .toBe('Enter both amounts in dollars, e.g. 2 or 10.50.')
      expect(await readAutoTopUp(db, { orgId: org.org.id })).toBeNull()

      await page.fill('#auto-amount', '10.50')
      await page.click('#auto-save')
      await expect.poll(() => page.textContent('#message')).toBe('Auto top-up saved.')
      expect(await readAutoTopUp(db, { orgId: org.org.id })).toMatchObject({
        threshold: 2_000_000n,
        amount: 10_500_000n,
        updatedBy: owner.address,
      })
      expect(await page.textContent('#auto-top-up-status')).toBe(
        'On: when your balance falls below $2.00, $10.50 is pulled from your wallet under your authorization — one at a time, never twice for one dip.',
      )
      // The API shows what the page set.
      const session = await signInWithSiwe(api, owner)
      const billing = (await api.call('GET', '/v1/billing', { key: session })).json
      expect(billing.billing_mode).toBe('prepaid')
      expect(billing.top_up.auto).toEqual({
        threshold: { micros: '2000000', usd: '$2.00' },
        amount: { micros: '10500000', usd: '$10.50' },
      })

      const axe = await new AxeBuilder({ page })
        .include('#pay-mode')
        .include('#auto-top-up')
        .analyze()
      expect(
        axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
      ).toEqual([])
      await page
        .locator('#pay-mode')
        .screenshot({ path: join(screenshotDir, 'manage-pay-mode-card.png') })
      await page.setViewportSize({ width: 390, height: 900 })
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        390,
      )
      await page.screenshot({
        path: join(screenshotDir, 'manage-pay-mode-390.png'),
        fullPage: true,
      })

      await page.click('#auto-off')
      await expect.poll(() => page.textContent('#message')).toBe('Auto top-up is off.')
      expect(await readAutoTopUp(db, { orgId: org.org.id })).toBeNull()

      // Back to after-use billing.
      await page.check('#pay-mode input[value="postpaid"]')
      await page.click('#pay-mode-save')
      await expect
        .poll(() => page.textContent('#message'))
        .toBe('After use: usage is added up and collected from your wallet.')
      expect(await mode()).toBe('postpaid')
      expect(await page.isVisible('#auto-top-up')).toBe(false)

      // Without the owner's session the page's routes change nothing.
      const stranger = await fetch(`${api.url}/s/${sub}/billing-mode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: api.url },
        body: JSON.stringify({ mode: 'prepaid' }),
      })
      expect(stranger.status).toBe(403)
      const bad = await page.evaluate(
        async ([id]) => {
          const res = await fetch(`/s/${id}/billing-mode`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ mode: 'credit' }),
          })
          return { status: res.status, code: (await res.json()).error?.code }
        },
        [sub],
      )
      expect(bad).toEqual({ status: 400, code: 'VALIDATION_FAILED' })
      expect(await mode()).toBe('postpaid')
    } finally {
      await browser.close()
      await api.stop()
    }
  })
})
