import { join } from 'node:path'
import type { Page } from 'playwright-core'
import type { TypedDataDefinition } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { usdcAbi } from '../../src/chain/abis.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { getBillingSummary } from '../../src/ledger/index.js'
import { indexChain } from '../../src/settlement/indexChain.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { subscriptionKey } from '../../src/subscriptions/typedData.js'
import { signManageToken } from '../../src/web/session.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { settlementContext } from '../settlement/helpers.js'
import { attachChain, injectTestWallet, launchBrowser, screenshotDir } from './browser.js'

/** Clicks `selector` and waits for the page's error message, which must match `pattern`. */
const refusedOn = async (page: Page, selector: string, pattern: RegExp) => {
  await page.evaluate(() => {
    const m = document.querySelector('#message')!
    m.textContent = ''
    m.className = ''
  })
  await page.click(selector)
  await page.waitForSelector('#message.error', { timeout: 15_000 })
  expect(await page.textContent('#message')).toMatch(pattern)
}

describe('the manage page refuses bad signatures, and the public payment history', () => {
  test('wrong wallet, another chain, another subscription, expired and replayed signatures are refused on the page and change nothing; an expired manage link shows no amounts; the owner makes the history public', async ({
    db,
    chain,
  }) => {
    // No signup credit: every action is billable, so one settlement has something to pull.
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '0' })
    attachChain(api, chain)
    const owner = privateKeyToAccount(generatePrivateKey())
    const stranger = privateKeyToAccount(generatePrivateKey())
    await mintUsdc(chain.deployer, chain.deployment, { to: owner.address, amount: 20_000_000n })
    const org = (
      await api.call('POST', '/v1/orgs', {
        body: { name: 'Refusals', owner_address: owner.address },
      })
    ).json
    const sub = org.subscription_id as string
    const allowance = () =>
      chain.deployer.readContract({
        address: chain.deployment.usdc,
        abi: usdcAbi,
        functionName: 'allowance',
        args: [owner.address, chain.deployment.collector!],
      })
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage({ viewport: { width: 420, height: 900 } })
      const wallet = await injectTestWallet(page, { account: owner, rpcUrl: chain.rpcUrl })
      await page.goto(`${api.url}/s/${sub}`)
      await page.click('#connect')
      await page.waitForSelector('#owner', { state: 'visible' })
      const unchanged = async (state: string, allowed: bigint) => {
        expect((await getBillingSummary(db, org.org.id)).state).toBe(state)
        expect(await allowance()).toBe(allowed)
      }

      // A permit signed by another key than the connected owner's.
      wallet.signer = stranger
      await page.fill('#cap', '5')
      await refusedOn(
        page,
        '#sign-authorize',
        /not the owner’s for this token, chain and collector/i,
      )
      await unchanged('pending', 0n)
      wallet.signer = undefined

      // The owner's key, but the wallet signed for another chain (a confused or hostile wallet).
      wallet.tamper = (t) => ({ ...t, domain: { ...t.domain, chainId: 1 } })
      await refusedOn(
        page,
        '#sign-authorize',
        /not the owner’s for this token, chain and collector/i,
      )
      await unchanged('pending', 0n)
      wallet.tamper = undefined

      // A good authorization; the request it sent is kept to replay.
      let firstBody: string | undefined
      page.on('request', (r) => {
        if (r.url().endsWith('/authorize') && firstBody === undefined) firstBody = r.postData()!
      })
      await page.click('#sign-authorize')
      await expect
        .poll(() => page.getAttribute('#state', 'data-state'), { timeout: 15_000 })
        .toMatch(/^active/)
      expect(await allowance()).toBe(5_000_000n)
      await unchanged('active', 5_000_000n)

      // The same request replayed: the permit's token nonce is spent.
      const replay = firstBody!
      await page.route('**/authorize', (route) => route.continue({ postData: replay }))
      await page.fill('#cap', '9')
      await refusedOn(page, '#sign-authorize', /permit nonce is already used/i)
      await unchanged('active', 5_000_000n)
      await page.unroute('**/authorize')

      // A permit whose deadline passed before it reached us (a stale prepared signature).
      await page.route('**/prepare', async (route) => {
        const res = await route.fetch()
        const body = await res.json()
        body.permit.message.deadline = String(Math.floor(Date.now() / 1000) - 60)
        await route.fulfill({ response: res, json: body })
      })
      await refusedOn(page, '#sign-authorize', /the permit has expired; sign a fresh one/i)
      await unchanged('active', 5_000_000n)
      await page.unroute('**/prepare')

      // Terms (the monthly limit) signed for another subscription.
      wallet.tamper = (t) =>
        t.primaryType === 'Terms'
          ? ({
              ...t,
              message: { ...(t.message as object), subscription: subscriptionKey('ab'.repeat(16)) },
            } as TypedDataDefinition)
          : t
      await page.fill('#limit', '3')
      await refusedOn(
        page,
        '#sign-authorize',
        /terms signature is not the owner’s for this subscription and chain/i,
      )
      await unchanged('active', 5_000_000n)
      wallet.tamper = undefined
      await page.reload()
      await page.waitForSelector('#owner', { state: 'visible' })
      expect(await page.textContent('#f-cap')).toBe('$5.00')
      expect(await page.textContent('#f-monthly_limit')).toBe('no limit')
      await page.screenshot({ path: join(screenshotDir, 'manage-refused.png'), fullPage: true })

      // Usage settles; the history is private until the owner opts in.
      for (let i = 0; i < 4; i++)
        await api.call('POST', '/v1/usage', { key: org.api_key, body: { action: 'claim_issue' } })
      const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
      const report = await settleOnce(ctx, { orgIds: [org.org.id] })
      expect(report.collected).toBe(1)
      await indexChain(ctx)
      const privateAnswer = await api.call('GET', `/s/${sub}/history.json`)
      expect(privateAnswer.status).toBe(403)
      expect(privateAnswer.json.error.code).toBe('HISTORY_NOT_PUBLIC')
      expect((await api.call('GET', `/s/${sub}/history`)).status).toBe(403)
      // Only the owner's session may change it: a stranger, or no session, is refused.
      expect(
        (await api.call('POST', `/s/${sub}/visibility`, { body: { public_history: true } })).status,
      ).toBe(403)

      await page.reload()
      await page.waitForSelector('#owner', { state: 'visible' })
      expect(await page.isChecked('#public-history')).toBe(false)
      await page.check('#public-history')
      await expect.poll(() => page.isVisible('#history-link')).toBe(true)
      await expect.poll(() => page.textContent('#message')).toBe('Your payment history is public.')

      // Anyone, with no wallet and no account, reads it; each row is the on-chain transaction.
      const anonymous = await browser.newPage({ viewport: { width: 390, height: 844 } })
      await anonymous.goto(`${api.url}/s/${sub}/history`)
      const row = anonymous.locator('#payments tr[data-tx]')
      await expect.poll(() => row.count()).toBe(1)
      expect(await row.getAttribute('data-tx')).toBe(report.txHashes[0])
      expect(await row.locator('td').nth(1).textContent()).toBe('$0.028')
      expect(await anonymous.textContent('#total')).toBe('$0.028')
      await anonymous.screenshot({
        path: join(screenshotDir, 'public-history.png'),
        fullPage: true,
      })
      const json = (await api.call('GET', `/s/${sub}/history.json`)).json
      expect(json).toMatchObject({
        subscription_id: sub,
        subscription_key: subscriptionKey(sub),
        chain_id: chain.deployment.chainId,
        collector: chain.deployment.collector,
        payments: [
          {
            event: 'Collected',
            seq: 1,
            amount: { micros: '28000', usd: '$0.028' },
            tx_hash: report.txHashes[0],
          },
        ],
      })
      // The JSON's figures are the chain's: the receipt has the collector's log at that index.
      const receipt = await chain.deployer.getTransactionReceipt({
        hash: json.payments[0].tx_hash,
      })
      expect(receipt.blockNumber.toString()).toBe(json.payments[0].block_number)
      const log = receipt.logs.find((l) => l.logIndex === json.payments[0].log_index)!
      expect(log.address.toLowerCase()).toBe(chain.deployment.collector!.toLowerCase())
      expect(log.topics).toContain(subscriptionKey(sub))

      // A cross-site form riding the owner's cookie cannot turn it off.
      const cookie = (await page.context().cookies()).find((c) => c.name === 'tg_manage')!
      const forged = await api.call('POST', `/s/${sub}/visibility`, {
        body: { public_history: false },
        headers: { cookie: `tg_manage=${cookie.value}`, origin: 'https://evil.example' },
      })
      expect(forged.status).toBe(403)
      expect(forged.json.error.code).toBe('CROSS_SITE_REQUEST')
      expect((await api.call('GET', `/s/${sub}/history.json`)).status).toBe(200)

      // A manage link that expired shows the state and nothing else; a fresh one shows amounts.
      const holder = await browser.newPage({ viewport: { width: 390, height: 844 } })
      await holder.goto(`${api.url}/s/${sub}?t=${signManageToken(api.ctx.config, sub, 'link', -1)}`)
      await expect.poll(() => holder.getAttribute('#state', 'data-state')).toMatch(/^active/)
      expect(await holder.isVisible('#owner')).toBe(false)
      await holder.goto(`${api.url}/s/${sub}?t=${signManageToken(api.ctx.config, sub, 'link', 60)}`)
      await holder.waitForSelector('#owner', { state: 'visible' })
      expect(await holder.textContent('#f-cap')).toBe('$5.00')
      // No wallet signed in there: the header says it is a link, not a sign-in.
      expect(await holder.textContent('#who')).toMatch(/^Manage link for 0x/)
      expect(await page.textContent('#who')).toMatch(/^Signed in as 0x/)

      // The owner turns it off again: private from then on.
      await page.uncheck('#public-history')
      await expect.poll(() => page.isVisible('#history-link')).toBe(false)
      expect((await api.call('GET', `/s/${sub}/history.json`)).status).toBe(403)
    } finally {
      await browser.close()
      await api.stop()
    }
  }, 120_000)
})
