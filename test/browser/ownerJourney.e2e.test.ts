import { join } from 'node:path'
import { AxeBuilder } from '@axe-core/playwright'
import type { Page } from 'playwright-core'
import { usdcAbi } from '../../src/chain/abis.js'
import { formatUsd } from '../../src/ledger/index.js'
import { indexChain } from '../../src/settlement/indexChain.js'
import { describe, expect, test } from '../fixtures.js'
import { meterThenSettle } from '../support/meterThenSettle.js'
import { startOwnedOrg } from '../support/startOwnedOrg.js'
import { injectTestWallet, launchBrowser, screenshotDir } from './browser.js'

// The page formats dates in the viewer's locale and zone; the test pins both to predict them.
const locale = 'en-GB'
const timeZone = 'UTC'
const fmt = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(locale, { timeZone, ...o })
const dateTime = (s: bigint) =>
  fmt({
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(Number(s) * 1000))
const shortDay = (d: Date) => fmt({ day: 'numeric', month: 'short' }).format(d)

/** No serious or critical accessibility violation, then screenshots at 390 and 1280 px. */
async function inspect(page: Page, name: string) {
  const result = await new AxeBuilder({ page }).analyze()
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(bad, name).toEqual([])
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 })
    // Measured at once: nothing (a chart not yet redrawn, a table, an address) may widen the page.
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth)
    expect(scrollWidth, `${name} at ${width} px`).toBeLessThanOrEqual(width)
    // Nor may the statement's tables scroll sideways inside their box: on a phone they stack.
    const sideways = await page.$$eval('#statement .scroll', (els) =>
      els.filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.scrollWidth),
    )
    expect(sideways, `${name}: statement tables at ${width} px`).toEqual([])
    await page.screenshot({ path: join(screenshotDir, `${name}-${width}.png`), fullPage: true })
  }
  await page.setViewportSize({ width: 1280, height: 900 })
}

/** Which of the state-dependent controls the page shows. */
async function controls(page: Page) {
  const shown: string[] = []
  for (const sel of ['#authorize', '#cancel-box', '#canceled-box', '#connect'])
    if (await page.isVisible(sel)) shown.push(sel)
  return shown
}

describe('an owner’s journey on the manage page and dashboard', () => {
  test('authorize → usage → charts → collected → needs_reauth → re-authorize → cancel (allowance 0) → start anew; each state shows only its controls; plain words match the typed data; axe finds nothing serious', async ({
    db,
    chain,
  }) => {
    const { api, owner, org } = await startOwnedOrg(db, chain, {
      name: 'Journey',
      usdc: 50_000_000n,
    })
    const sub = org.subscription_id as string
    const browser = await launchBrowser()
    try {
      const context = await browser.newContext({
        locale,
        timezoneId: timeZone,
        viewport: { width: 1280, height: 900 },
      })
      const page = await context.newPage()
      // What the page says while the wallet asks for each signature, beside what is signed.
      const prompts: {
        typed: { primaryType: string; message: Record<string, string> }
        shown: string
      }[] = []
      await injectTestWallet(page, {
        account: owner,
        rpcUrl: chain.rpcUrl,
        onRequest: async (m, params) => {
          if (m !== 'eth_signTypedData_v4') return
          const shown = (await page.locator('#steps li').last().textContent()) ?? ''
          prompts.push({ typed: JSON.parse(String((params as string[])[1])), shown })
        },
      })
      await page.goto(`${api.url}/s/${sub}`)
      await expect.poll(() => page.getAttribute('#state', 'data-state')).toBe('pending')
      expect(await page.textContent('#state')).toBe('Waiting for authorization')
      await expect.poll(() => controls(page)).toEqual(['#connect'])
      await inspect(page, 'owner-signed-out')
      await page.click('#connect')
      await page.waitForSelector('#owner', { state: 'visible' })
      await expect.poll(() => controls(page)).toEqual(['#authorize'])
      expect(await page.inputValue('#cap')).toBe('')
      // Nothing authorized yet: no "$0.00 cap"; the wallet as its checksummed address.
      expect(await page.textContent('#f-cap')).toBe('not authorized yet')
      expect(await page.textContent('#f-remaining')).toBe('not authorized yet')
      expect(await page.getAttribute('#f-owner code', 'title')).toBe(owner.address)
      expect(await page.textContent('#network')).toContain('local test chain')
      // The token, the collector and the payee that receives every collection: shortened, with
      // a copy button, the full address on hover (no explorer locally).
      expect(
        (
          await page.$$eval('#network code', (els) => els.map((e) => e.getAttribute('title') ?? ''))
        ).map((a) => a.toLowerCase()),
      ).toEqual(
        [chain.deployment.usdc, chain.deployment.collector!, chain.deployment.payee].map((a) =>
          a.toLowerCase(),
        ),
      )
      expect(await page.textContent('#network')).toContain(
        `payments go to ${chain.deployment.payee.slice(0, 6)}…${chain.deployment.payee.slice(-4)}Copy`,
      )
      await inspect(page, 'owner-pending')

      // Authorize: two signatures, each explained in words before the wallet asks.
      await page.fill('#cap', '5')
      await page.fill('#limit', '2')
      const before = new Date()
      await page.click('#sign-authorize')
      await expect
        .poll(() => page.getAttribute('#state', 'data-state'), { timeout: 20_000 })
        .toBe('active')
      expect(prompts.map((p) => p.typed.primaryType)).toEqual(['Permit', 'Terms'])
      const [permit, terms] = prompts as [(typeof prompts)[0], (typeof prompts)[0]]
      const short = `${owner.address.slice(0, 6)}…${owner.address.slice(-4)}`
      expect(permit.shown).toContain('Signature 1 of 2: USDC allowance')
      expect(permit.shown).toContain(
        `up to ${formatUsd(BigInt(permit.typed.message.value!))} in USDC from ${short}`,
      )
      expect(permit.shown).toContain(
        `Valid until ${dateTime(BigInt(permit.typed.message.deadline!))}`,
      )
      expect(permit.shown).toContain('Nothing is charged now; you pay no gas.')
      const period = Number(terms.typed.message.period)
      expect(terms.shown).toContain('Signature 2 of 2: monthly limit')
      expect(terms.shown).toContain(
        `up to ${formatUsd(BigInt(terms.typed.message.cap!))} in total from ${short}, at most ${formatUsd(BigInt(terms.typed.message.limit!))} in any ${period / 86_400}-day window (this window: ${shortDay(before)} – ${shortDay(new Date(before.getTime() + period * 1000 - 1))})`,
      )
      expect(terms.shown).toContain(
        `Valid until ${dateTime(BigInt(terms.typed.message.deadline!))}`,
      )
      expect(terms.typed.message).toMatchObject({ cap: '5000000', limit: '2000000' })
      // The outcome names the transaction; the amounts carry their exact micro-credits on hover.
      await expect
        .poll(() => page.textContent('#outcome'))
        .toMatch(/Authorized: up to \$5\.00 in total, at most \$2\.00 a window/)
      expect(await page.getAttribute('#outcome a, #outcome code', 'title')).toMatch(
        /^0x[0-9a-f]{64}$/,
      )
      expect(await page.getAttribute('#f-cap span', 'title')).toMatch(/^5000000 micro-credits/)
      await expect.poll(() => controls(page)).toEqual(['#authorize', '#cancel-box'])
      await inspect(page, 'owner-active')

      // Usage shows in the charts and tables; the worker collects; the page links the pull.
      const { ctx, report } = await meterThenSettle(db, chain, api, {
        orgId: org.org.id,
        key: org.api_key,
        calls: 436,
      })
      expect(report.collected).toBe(1)
      await indexChain(ctx)
      await page.reload()
      await page.waitForSelector('#usage-chart canvas')
      await expect.poll(() => page.textContent('#by-action')).toContain('claim_issue')
      expect(await page.textContent('#usage-summary')).toContain('436 paid calls')
      await page.waitForSelector('#payments tr[data-tx]')
      expect(await page.getAttribute('#payments tr', 'data-tx')).toBe(report.txHashes[0])
      expect(await page.getAttribute('#payments tr code', 'title')).toBe(report.txHashes[0])
      // The month's statement on the manage page: the charge, its usage line, its transaction.
      await page.click('#show-statement')
      await page.waitForSelector('#statement-rows tr')
      expect(await page.textContent('#statement-rows')).toMatch(/claim_issue × \d+: \$1\.052/)
      expect(await page.getAttribute('#statement-rows code', 'title')).toBe(report.txHashes[0])
      await inspect(page, 'owner-collected')

      // Active: lowering the cap is one signature (the permit), explained as such.
      await page.fill('#cap', '1.5')
      await page.click('#sign-authorize')
      await expect.poll(() => page.textContent('#f-cap'), { timeout: 20_000 }).toBe('$1.50')
      expect(prompts).toHaveLength(3)
      expect(prompts[2]!.shown).toContain('Signature 1 of 1: USDC allowance')
      expect(prompts[2]!.shown).toContain(
        `up to ${formatUsd(BigInt(prompts[2]!.typed.message.value!))} in USDC from ${short}`,
      )

      // Active, the allowance covering the cap: a new monthly limit alone is one wallet prompt
      // (the terms), and the allowance on-chain stays as it was.
      const allowanceOf = () =>
        chain.deployer.readContract({
          address: chain.deployment.usdc,
          abi: usdcAbi,
          functionName: 'allowance',
          args: [owner.address, chain.deployment.collector],
        })
      const allowanceBefore = await allowanceOf()
      expect(await page.getAttribute('#cap', 'placeholder')).toBe('keep $1.50')
      await page.fill('#limit', '3')
      await page.click('#sign-authorize')
      await expect
        .poll(() => page.textContent('#f-monthly_limit'), { timeout: 20_000 })
        .toBe('$3.00')
      expect(prompts.slice(3).map((p) => p.typed.primaryType)).toEqual(['Terms'])
      expect(prompts[3]!.shown).toContain('Signature 1 of 1: monthly limit')
      expect(prompts[3]!.shown).toContain('at most $3.00 in any 30-day window')
      expect(prompts[3]!.typed.message).toMatchObject({ cap: '1500000', limit: '3000000' })
      expect(await page.textContent('#f-cap')).toBe('$1.50')
      expect(await allowanceOf()).toBe(allowanceBefore)
      await expect.poll(() => page.textContent('#outcome')).toMatch(/at most \$3\.00 a window/)

      // Drawn down: needs_reauth says why in words, and offers the one fix.
      let refused = false
      for (let i = 0; i < 600 && !refused; i++)
        refused =
          (
            await api.call('POST', '/v1/usage', {
              key: org.api_key,
              body: { action: 'claim_issue' },
            })
          ).status === 402
      expect(refused).toBe(true)
      await page.reload()
      await expect.poll(() => page.getAttribute('#state', 'data-state')).toBe('needs_reauth')
      expect(await page.textContent('#state')).toBe('Needs a new authorization')
      await expect
        .poll(() => page.textContent('#authorize-why'))
        .toMatch(/Paid actions are paused: .*Sign a new cap/)
      await expect.poll(() => controls(page)).toEqual(['#authorize', '#cancel-box'])
      await inspect(page, 'owner-needs-reauth')
      await page.fill('#cap', '10')
      await page.click('#sign-authorize')
      await expect
        .poll(() => page.getAttribute('#state', 'data-state'), { timeout: 20_000 })
        .toBe('active')

      // Cancel: a confirmation that says the allowance goes to 0; afterwards it is 0 on-chain.
      await page.click('#cancel')
      expect(await page.textContent('#cancel-words')).toMatch(/sets your USDC allowance .* to \$0/)
      await page.click('#cancel-yes')
      await expect
        .poll(() => page.getAttribute('#state', 'data-state'), { timeout: 30_000 })
        .toBe('canceled')
      const allowance = await chain.deployer.readContract({
        address: chain.deployment.usdc,
        abi: usdcAbi,
        functionName: 'allowance',
        args: [owner.address, chain.deployment.collector],
      })
      expect(allowance).toBe(0n)
      await expect
        .poll(() => page.textContent('#outcome'))
        .toContain('Canceled. Your USDC allowance to the collector is now $0.00.')
      expect(await page.textContent('#canceled-words')).toContain('allowance')
      await expect.poll(() => controls(page)).toEqual(['#canceled-box'])
      // The cancel collected what was owed first: a second pull, which the payment history
      // shows once the indexer has read it (the worker's job; run here as it would).
      const collected = (
        await db.$client<{ tx_hash: string }[]>`
          select tx_hash from charges where subscription_id = ${sub} and status = 'collected'
          order by seq desc`
      ).map((r) => r.tx_hash)
      expect(collected).toHaveLength(2)
      await indexChain(ctx)
      await page.reload()
      await expect
        .poll(() => page.$$eval('#payments tr[data-tx]', (rows) => rows.map((r) => r.dataset.tx)))
        .toEqual(collected)
      expect(await page.$$eval('#charges tr', (rows) => rows.length)).toBe(2)
      await inspect(page, 'owner-canceled')

      // Start a new subscription: a new pending id for the same org, ready to authorize.
      await page.click('#renew')
      await page.waitForURL((u) => !u.pathname.endsWith(sub))
      const renewed = new URL(page.url()).pathname.split('/').pop()!
      expect(renewed).toMatch(/^[0-9a-f]{32}$/)
      await expect.poll(() => page.getAttribute('#state', 'data-state')).toBe('pending')
      await page.waitForSelector('#owner', { state: 'visible' })
      await expect.poll(() => controls(page)).toEqual(['#authorize'])
      expect(
        (await api.call('GET', '/v1/billing', { key: org.api_key })).json.subscription_id,
      ).toBe(renewed)
      // Its history is its own: the old subscription's payments and charges stay on its page.
      expect(await page.textContent('#payments')).toBe('No on-chain payments yet.')
      expect(await page.textContent('#charges')).toBe('No charges yet.')
      await page.fill('#cap', '3')
      await page.click('#sign-authorize')
      await expect
        .poll(() => page.getAttribute('#state', 'data-state'), { timeout: 20_000 })
        .toBe('active')

      // The dashboard: Sign-In with Ethereum, the card in words, usage charts, no serious axe finding.
      const dash = await context.newPage()
      await injectTestWallet(dash, { account: owner, rpcUrl: chain.rpcUrl })
      await dash.goto(`${api.url}/dashboard`)
      await inspect(dash, 'dashboard-signed-out')
      await dash.click('#signin')
      await dash.waitForSelector('#billing', { state: 'visible' })
      await expect.poll(() => dash.isVisible('#signin')).toBe(false)
      expect(await dash.textContent('#b-status')).toBe('Active')
      expect(await dash.getAttribute('#b-payee code', 'title')).toBe(chain.deployment.payee)
      await dash.waitForSelector('#usage-chart canvas')
      await dash.click('#show-statement')
      await dash.waitForSelector('#statement-rows tr')
      expect(await dash.textContent('#statement-rows')).toContain('claim_issue')
      // The charges ledger says which charge and which 30-day window in words, no internal memo.
      const ledger = await dash.textContent('#ledger')
      expect(ledger).toContain('Charge #1 · 30-day window 1')
      expect(ledger).not.toMatch(/\bseq\b/)
      await inspect(dash, 'dashboard-owner')
    } finally {
      await browser.close()
      await api.stop()
    }
  }, 240_000)
})
