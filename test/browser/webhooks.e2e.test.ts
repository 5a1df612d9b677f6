import { join } from 'node:path'
import { AxeBuilder } from '@axe-core/playwright'
import type { Page } from 'playwright-core'
import { Webhook } from 'standardwebhooks'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { Db } from '../../src/db/client.js'
import { deliverWebhooks, fanOut } from '../../src/notifications/deliver.js'
import { signInWithSiwe, startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { config } from '../ledger/helpers.js'
import { type Received, startReceiver, waitFor } from '../support/webhookReceiver.js'
import { attachChain, injectTestWallet, launchBrowser, screenshotDir } from './browser.js'

/** The delivery worker's webhook half, until nothing is left to send. */
async function drain(db: Db) {
  for (;;) {
    const f = await fanOut(db)
    const w = await deliverWebhooks(db, {
      key: config.notifications.key,
      links: { publicBaseUrl: 'https://tollgate.test' },
    })
    if (f + w === 0) return
  }
}

/** Verifies a received request as a receiver would, with `standardwebhooks`. */
const verify = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, {
    'webhook-id': r.headers['webhook-id'] as string,
    'webhook-timestamp': r.headers['webhook-timestamp'] as string,
    'webhook-signature': r.headers['webhook-signature'] as string,
  }) as { type: string; data: { id: string; data: Record<string, unknown> } }

/** No serious or critical axe finding in the card; nothing wider than the screen at 390 px. */
async function inspect(page: Page, name: string) {
  const result = await new AxeBuilder({ page }).include('#webhooks').analyze()
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(bad, name).toEqual([])
  const card = page.locator('#webhooks')
  await card.screenshot({ path: join(screenshotDir, `${name}-1280.png`) })
  await page.setViewportSize({ width: 390, height: 900 })
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
  await card.screenshot({ path: join(screenshotDir, `${name}-390.png`) })
  await page.setViewportSize({ width: 1280, height: 900 })
}

describe('webhook endpoints on the dashboard, in Chromium', () => {
  test('the owner adds an endpoint (secret shown once), a refused call delivers budget.reached signed with it, the log shows it, Redeliver sends the same webhook-id, rotate signs with both secrets, disable, delete', async ({
    db,
    chain,
  }) => {
    const api = await startApi(db)
    attachChain(api, chain)
    const receiver = await startReceiver()
    const owner = privateKeyToAccount(generatePrivateKey())
    const org = (
      await api.call('POST', '/v1/orgs', { body: { name: 'Hooks', owner_address: owner.address } })
    ).json
    // The page's request may still be on its way: the worker runs until the receiver has `n`.
    const received = (n: number) =>
      waitFor(async () => {
        await drain(db)
        return receiver.received.length >= n
      })
    const browser = await launchBrowser()
    try {
      // axe needs a page from a context of its own.
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.url })
      const page = await context.newPage()
      await injectTestWallet(page, { account: owner, rpcUrl: chain.rpcUrl })
      await page.goto(`${api.url}/dashboard`)
      await page.click('#signin')
      await page.waitForSelector('#webhooks', { state: 'visible' })
      expect(await page.textContent('#wh-list')).toContain('No endpoints yet')

      // A bad URL: a sentence beside the field, nothing registered.
      await page.fill('#wh-url', 'example dot com')
      await page.click('#wh-create')
      await expect
        .poll(() => page.textContent('#wh-url-error'))
        .toBe(
          '“example dot com” is not a web address: it should look like https://example.com/webhooks.',
        )
      expect(await page.getAttribute('#wh-url', 'aria-invalid')).toBe('true')
      // One the server refuses (credentials in it): its reason, in words.
      await page.fill('#wh-url', 'http://user:pw@127.0.0.1:9/hook')
      await page.click('#wh-create')
      await expect
        .poll(() => page.textContent('#wh-url-error'))
        .toMatch(/^Url must not carry credentials\.$/i)
      expect(
        (await api.call('GET', '/v1/webhooks/endpoints', { key: await signInWithSiwe(api, owner) }))
          .json.endpoints,
      ).toEqual([])

      // The real receiver, for budget.reached only (ticked in words).
      await page.fill('#wh-url', receiver.url)
      await page.check('#wh-kinds input[value="budget.reached"]')
      expect(await page.textContent('label:has(input[value="budget.reached"])')).toContain(
        'A monthly limit or spend budget was reached',
      )
      await page.click('#wh-create')
      await page.waitForSelector('#wh-secret', { state: 'visible' })
      expect(await page.textContent('#wh-url-error')).toBe('')
      const secret = (await page.textContent('#wh-secret-value'))!
      expect(secret).toMatch(/^whsec_/)
      expect(await page.textContent('#wh-secret')).toContain('shown only now')
      expect(await page.textContent('#wh-secret')).toContain(
        'new Webhook(secret).verify(rawBody, headers)',
      )
      await page.click('#wh-secret-copy')
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret)
      const card = page.locator('article.endpoint')
      expect(await card.locator('h3').textContent()).toBe(receiver.url)
      expect(await card.textContent()).toContain('Enabled')
      expect(await card.textContent()).toContain(
        'Events: A monthly limit or spend budget was reached.',
      )
      expect(await card.textContent()).toContain('Last delivery: none yet.')
      await inspect(page, 'dashboard-webhooks-secret')
      await page.click('#wh-secret-done')
      expect(await page.isVisible('#wh-secret')).toBe(false)

      // A real event: a key's day budget of 12,000 refuses the third 5,000 comment.
      const key = org.api_key as string
      const keyId = (await api.call('GET', '/v1/whoami', { key })).json.key_id as string
      const ownerToken = await signInWithSiwe(api, owner)
      const set = await api.call('POST', '/v1/budgets', {
        key: ownerToken,
        body: { key_id: keyId, period: 'day', limit_micros: '12000' },
        headers: { 'idempotency-key': 'wh-budget' },
      })
      expect(set.status, set.text).toBe(200)
      const codes: unknown[] = []
      for (let i = 0; i < 3; i++) {
        const r = await api.call('POST', '/v1/usage', {
          key,
          body: { action: 'save_comment' },
          headers: { 'idempotency-key': `wh-${i}` },
        })
        codes.push(r.status === 201 ? 201 : r.json.error.code)
      }
      expect(codes).toEqual([201, 201, 'SPEND_CAP_REACHED'])
      await received(1)
      const first = receiver.received[0]!
      const body = verify(secret, first)
      expect(body.type).toBe('budget.reached')
      expect(first.id).toBe(body.data.id)
      expect(body.data.data).toMatchObject({ scope: 'key', key_id: keyId, limit_micros: '12000' })

      // The log on the page: the event, its type, one attempt, delivered.
      await page.click('#wh-refresh')
      const row = page.locator(`tr[data-event="${first.id}"]`)
      await row.waitFor()
      const cells = await row.locator('td').allTextContents()
      expect(cells.slice(0, 4)).toEqual([first.id, 'budget.reached', '1', 'Delivered (HTTP 200)'])
      expect(await card.locator('.last-delivery').textContent()).toMatch(
        /^Last delivery \(.+\): Delivered \(HTTP 200\)\.$/,
      )

      // Redeliver from the page: the receiver gets the same webhook-id again.
      await page.click(`button[aria-label="Redeliver ${first.id}"]`)
      await expect.poll(() => page.textContent('#message')).toContain('Sending')
      await received(2)
      expect(receiver.received[1]!.id).toBe(first.id)
      expect(receiver.received[1]!.body).toBe(first.body)
      verify(secret, receiver.received[1]!)

      // Rotate: a new secret shown once; the old one signs beside it until the overlap ends.
      await page.click(`button[aria-label="Rotate the secret of ${receiver.url}"]`)
      await page.waitForSelector('#wh-secret', { state: 'visible' })
      const rotated = (await page.textContent('#wh-secret-value'))!
      expect(rotated).toMatch(/^whsec_/)
      expect(rotated).not.toBe(secret)
      const words = (await page.textContent('#wh-secret-words'))!
      expect(words).toMatch(/The old secret keeps signing beside it until .+, so switch/)
      expect(await card.textContent()).toContain('The previous secret also signs until')
      await page.click(`button[aria-label="Redeliver ${first.id}"]`)
      await received(3)
      verify(rotated, receiver.received[2]!)
      verify(secret, receiver.received[2]!)
      // The receiver down: the log says the delivery is failing and when it is tried again.
      receiver.state.status = 503
      await page.click(`button[aria-label="Redeliver ${first.id}"]`)
      await received(4)
      await page.click('#wh-refresh')
      await expect
        .poll(() => row.locator('td').nth(3).textContent())
        .toMatch(/^Failing: .*503.*; next try .+/)
      expect(await card.locator('.last-delivery').textContent()).toMatch(
        /^Last delivery \(.+\): Failing: /,
      )
      receiver.state.status = 200
      await inspect(page, 'dashboard-webhooks-log')

      // Disable (said on the card), enable again.
      await page.click(`button[aria-label="Disable ${receiver.url}"]`)
      await expect
        .poll(() => card.textContent())
        .toContain(
          'Disabled — turned off by an owner or admin: nothing is sent to it until it is enabled again.',
        )
      await page.click(`button[aria-label="Enable ${receiver.url}"]`)
      await expect.poll(() => card.locator('.badge').textContent()).toBe('Enabled')

      // Delete, after the confirmation.
      page.once('dialog', (d) => void d.accept())
      await page.click(`button[aria-label="Delete ${receiver.url}"]`)
      await expect.poll(() => page.textContent('#wh-list')).toContain('No endpoints yet')
      expect(
        (await api.call('GET', '/v1/webhooks/endpoints', { key: ownerToken })).json.endpoints,
      ).toEqual([])
    } finally {
      await browser.close()
      await receiver.stop()
      await api.stop()
    }
  }, 90_000)
})
