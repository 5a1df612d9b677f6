import { join } from 'node:path'
import { AxeBuilder } from '@axe-core/playwright'
import type { Page } from 'playwright-core'
import { unsubscribeToken } from '../../src/notifications/unsubscribe.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { launchBrowser, screenshotDir } from './browser.js'

/** The page is built as the others are: language, landmarks, the shared stylesheet, no inline style; axe finds nothing serious; it fits 390 px. */
async function inspect(page: Page, name: string) {
  expect(await page.getAttribute('html', 'lang'), name).toBe('en')
  expect(await page.locator('main').count(), name).toBe(1)
  expect(await page.locator('main h1').count(), name).toBe(1)
  expect(await page.locator('[style], style').count(), name).toBe(0)
  expect(await page.getAttribute('link[rel="stylesheet"]', 'href'), name).toBe('/assets/style.css')
  const result = await new AxeBuilder({ page }).analyze()
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical' || v.id.startsWith('landmark'))
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(bad, name).toEqual([])
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
  await page.screenshot({ path: join(screenshotDir, `${name}-390.png`), fullPage: true })
}

describe('the notice pages mails link to, in Chromium', () => {
  test('verify and unsubscribe pages have a language, landmarks and the shared stylesheet, and pass axe', async ({
    db,
  }) => {
    const api = await startApi(db)
    const browser = await launchBrowser()
    try {
      // axe needs a page from a context of its own.
      const context = await browser.newContext({ viewport: { width: 390, height: 800 } })
      const page = await context.newPage()

      const unknown = await page.goto(`${api.url}/notices/verify?token=not-a-real-token`)
      expect(unknown!.status()).toBe(404)
      expect(await page.textContent('h1')).toBe('Link not valid')
      await inspect(page, 'notice-verify-invalid')

      const token = unsubscribeToken(
        api.ctx.config.notifications.key,
        '00000000-0000-0000-0000-000000000000',
        'owner@example.com',
        'allowance.low',
      )
      await page.goto(`${api.url}/notices/unsubscribe?token=${token}`)
      expect(await page.textContent('h1')).toBe('Stop these notices?')
      await inspect(page, 'notice-unsubscribe')

      await page.click('button[type="submit"]')
      await page.waitForSelector('text=Unsubscribed')
      expect(await page.textContent('main')).toContain('owner@example.com receives no more')
      await inspect(page, 'notice-unsubscribed')
    } finally {
      await browser.close()
      await api.stop()
    }
  })
})
