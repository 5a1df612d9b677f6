import { join } from 'node:path'
import { AxeBuilder } from '@axe-core/playwright'
import nodemailer from 'nodemailer'
import type { Page } from 'playwright-core'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { Db } from '../../src/db/client.js'
import { fanOut } from '../../src/notifications/deliver.js'
import { deliverEmails } from '../../src/notifications/deliverEmails.js'
import { startMailCatcher } from '../../src/notifications/mailCatcher.js'
import type { MailOptions } from '../../src/notifications/mailer.js'
import { signInWithSiwe, startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { config } from '../ledger/helpers.js'
import { startOwnedOrg } from '../support/startOwnedOrg.js'
import {
  attachChain,
  injectTestWallet,
  launchBrowser,
  openManageSignedIn,
  screenshotDir,
} from './browser.js'

/** One pass of the delivery worker's mail half, as the email integration test drains it. */
async function drain(db: Db, o: MailOptions) {
  for (;;) {
    const f = await fanOut(db)
    const m = await deliverEmails(db, o)
    if (f === 0 && m === 0) return
  }
}

/** No serious or critical accessibility finding in one section; the page fits 390 px. */
async function inspect(page: Page, selector: string, name: string) {
  const result = await new AxeBuilder({ page }).include(selector).analyze()
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(bad, name).toEqual([])
  await page.setViewportSize({ width: 390, height: 900 })
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
  await page.screenshot({ path: join(screenshotDir, `${name}-390.png`), fullPage: true })
}

describe('the manage page’s owner controls beyond billing', () => {
  test('email notices: set the address → the one confirmation mail → its link → the page says verified', async ({
    db,
    chain,
  }) => {
    const catcher = await startMailCatcher()
    const api = await startApi(db)
    attachChain(api, chain)
    const mail: MailOptions = {
      mailer: nodemailer.createTransport(catcher.url),
      from: 'Tollgate <notices@tollgate.test>',
      productName: 'Tollgate',
      key: config.notifications.key,
      links: { publicBaseUrl: api.url },
      retryBaseMs: 20,
    }
    const owner = privateKeyToAccount(generatePrivateKey())
    const org = (
      await api.call('POST', '/v1/orgs', {
        body: { name: 'Notices', owner_address: owner.address },
      })
    ).json
    const browser = await launchBrowser()
    try {
      // axe needs a page from a context of its own.
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      const page = await context.newPage()
      await injectTestWallet(page, { account: owner, rpcUrl: chain.rpcUrl })
      await page.goto(`${api.url}/s/${org.subscription_id}`)
      // Not signed in: no address, no form.
      expect(await page.isVisible('#notices')).toBe(false)
      await page.click('#connect')
      await page.waitForSelector('#notices', { state: 'visible' })
      expect(await page.textContent('#notices')).toContain(
        'We send a link to confirm this address; nothing is sent until you click it.',
      )
      await expect.poll(() => page.textContent('#notice-status')).toContain('No address yet')
      // Each kind in plain words, its id small beside them and on hover; the value stays the id.
      const low = page.locator('#notice-kinds label', {
        has: page.locator('input[value="allowance.low"]'),
      })
      expect(await low.textContent()).toBe(
        ' Your allowance is running low (80% and 95% used) allowance.low',
      )
      expect(await low.getAttribute('title')).toBe('allowance.low')
      expect(await low.locator('small').textContent()).toBe('allowance.low')
      const kinds = await page.$$eval('#notice-kinds label', (labels) =>
        labels.map((l) => ({
          value: l.querySelector('input')!.value,
          words: (l.childNodes[1]?.textContent ?? '').trim(),
          id: l.querySelector('small')?.textContent,
        })),
      )
      expect(kinds.length).toBeGreaterThan(10)
      for (const k of kinds) {
        expect(k.id).toBe(k.value)
        expect(k.words, k.value).toMatch(/^[A-Z][a-z]* [^.]* [a-z]+\)?$/)
      }
      await page.fill('#notice-address', 'owner@example.com')
      await page.uncheck('#notice-kinds input[value="charge.collected"]')
      await page.click('#notice-save')
      await expect
        .poll(() => page.textContent('#notice-status'))
        .toContain('owner@example.com is not confirmed yet')
      await inspect(page, '#notices', 'manage-notices-unverified')

      await drain(db, mail)
      expect(catcher.mails.map((m) => [m.to, m.subject])).toEqual([
        [['owner@example.com'], 'Tollgate: confirm this address for notices'],
      ])
      const link = catcher.mails[0]!.text.match(/\/notices\/verify\?token=[A-Za-z0-9_.-]+/)
      expect(link).not.toBeNull()
      await page.goto(`${api.url}${link![0]}`)
      expect(await page.textContent('body')).toContain('Address confirmed')

      // Back on the manage page (still signed in): verified, with the kinds the owner chose.
      await page.goto(`${api.url}/s/${org.subscription_id}`)
      await expect
        .poll(() => page.textContent('#notice-status'))
        .toBe('Sending to owner@example.com (verified).')
      expect(await page.isChecked('#notice-kinds input[value="charge.collected"]')).toBe(false)
      expect(await page.isChecked('#notice-kinds input[value="allowance.low"]')).toBe(true)
      const saved = (
        await db.$client<{ kinds: string[] }[]>`
        select kinds from email_settings where org_id = ${org.org.id}`
      )[0]!.kinds
      expect(saved).not.toContain('charge.collected')
      expect(saved).toContain('allowance.low')
      // Only the owner writes: the same route without a session is refused.
      const anon = await fetch(`${api.url}/s/${org.subscription_id}/notifications/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ address: 'evil@example.com' }),
      })
      expect(anon.status).toBe(403)
    } finally {
      await browser.close()
      await api.stop()
      await catcher.close()
    }
  })
  test('top-up: a prepaid org with a permit buys $5 once, even clicked twice; refusals in words', async ({
    db,
    chain,
  }) => {
    const { api, owner, org } = await startOwnedOrg(db, chain, { name: 'Top-up' })
    const sub = org.subscription_id
    const session = await signInWithSiwe(api, owner)
    await api.call('POST', '/v1/billing/mode', {
      key: session,
      body: { mode: 'prepaid' },
      headers: { 'idempotency-key': 'mode-1' },
    })
    // The owner signed a $20 permit (its effect on the books, written directly here).
    await db.$client`update subscriptions set state = 'active', allowance = 20000000 where id = ${sub}`
    const browser = await launchBrowser()
    try {
      const page = await openManageSignedIn(browser, { url: api.url, sub, owner, chain })
      await page.waitForSelector('#top-up', { state: 'visible' })
      await page.fill('#top-up-amount', '5')
      await Promise.all([page.click('#top-up-buy'), page.click('#top-up-buy', { force: true })])
      // Whichever answer lands last is shown: the booking, or the second click's refusal.
      await expect
        .poll(() => page.textContent('#top-up-outcome'))
        .toMatch(
          /^(Requested: the next settlement pass pulls \$5\.00|A top-up is already on its way)/,
        )
      const rows = await db.$client<{ amount: string }[]>`
        select amount::text from charges where subscription_id = ${sub} and kind = 'topup'`
      expect(rows).toEqual([{ amount: '5000000' }])
      // Another while that one is open: refused, said in words, nothing booked.
      await page.click('#top-up-buy')
      await expect
        .poll(() => page.textContent('#top-up-outcome'))
        .toBe('A top-up is already on its way; wait until it is collected before buying more.')
      const after =
        await db.$client`select 1 from charges where subscription_id = ${sub} and kind = 'topup'`
      expect(after.length).toBe(1)
      await inspect(page, '#top-up', 'manage-top-up')
    } finally {
      await browser.close()
      await api.stop()
    }
  })
})
