import { join } from 'node:path'
import { wrapFetchWithPayment } from '@x402/fetch'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { startApi } from '../api/server.js'
import { describe, expect, startTestChain, test } from '../fixtures.js'
import { agentClient } from '../x402/helpers.js'
import { attachChain, injectTestWallet, launchBrowser, screenshotDir } from './browser.js'

/** Base Sepolia's chain id: its transactions have an explorer (sepolia.basescan.org). */
const BASE_SEPOLIA = 84532

describe('x402 payments in the payment history, in Chromium', () => {
  test('a wallet signs up over x402; its owner sees the payment on the dashboard and the manage page, with its explorer link, and authorizes a permit there', async ({
    db,
  }) => {
    // A chain of its own with Base Sepolia's id, so the payment has an explorer link to follow.
    const chain = await startTestChain({ chainId: BASE_SEPOLIA })
    const api = await startApi(db)
    attachChain(api, chain)
    const browser = await launchBrowser()
    try {
      const wallet = privateKeyToAccount(generatePrivateKey())
      await mintUsdc(chain.deployer, chain.deployment, { to: wallet.address, amount: 5_000_000n })
      const pay = wrapFetchWithPayment(fetch, agentClient(wallet))
      const res = await pay(`${api.url}/v1/x402/orgs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Paid by an agent' }),
      })
      const signup = await res.json()
      expect(res.status, JSON.stringify(signup)).toBe(201)
      const hash = signup.payment.tx_hash as string
      const explorer = `https://sepolia.basescan.org/tx/${hash}`
      const history = await api.call('GET', '/v1/billing/payments', { key: signup.api_key })
      expect(history.json.payments).toMatchObject([
        { kind: 'x402_top_up', status: 'settled', tx_hash: hash, explorer_url: explorer },
      ])

      // The dashboard: the owner (the paying wallet) signs in and sees the payment.
      const page = await browser.newPage({ viewport: { width: 420, height: 900 } })
      await injectTestWallet(page, { account: wallet, rpcUrl: chain.rpcUrl, chainId: BASE_SEPOLIA })
      await page.goto(`${api.url}/dashboard`)
      await page.click('#signin')
      await page.waitForSelector('#payments tr[data-tx]')
      const row = page.locator('#payments tr[data-tx]')
      expect(await row.count()).toBe(1)
      expect(await row.getAttribute('data-tx')).toBe(hash)
      expect(await row.locator('td:nth-child(1)').textContent()).toBe(
        `x402 top-up from ${wallet.address.toLowerCase().slice(0, 6)}…${wallet.address.toLowerCase().slice(-4)}`,
      )
      expect(await row.locator('td:nth-child(2)').textContent()).toBe('$1.00')
      expect(await row.locator('td:nth-child(3) a').getAttribute('href')).toBe(explorer)
      await page.screenshot({ path: join(screenshotDir, 'dashboard-x402.png'), fullPage: true })
      // The link works: following it asks the explorer for this transaction.
      await page.route('https://sepolia.basescan.org/**', (route) => route.abort())
      const followed = page.waitForRequest((r) =>
        r.url().startsWith('https://sepolia.basescan.org/'),
      )
      await row.locator('td:nth-child(3) a').click()
      expect((await followed).url()).toBe(explorer)

      // The manage page: the same row under Payment history.
      const manage = await browser.newPage({ viewport: { width: 420, height: 900 } })
      await injectTestWallet(manage, {
        account: wallet,
        rpcUrl: chain.rpcUrl,
        chainId: BASE_SEPOLIA,
      })
      await manage.goto(`${api.url}/s/${signup.subscription_id}`)
      await manage.click('#connect')
      await expect.poll(() => manage.textContent('#message')).toMatch(/^Signed in/)
      await manage.waitForSelector('#owner', { state: 'visible' })
      const line = manage.locator('#payments tr[data-tx]')
      await line.waitFor()
      expect(await line.count()).toBe(1)
      expect(await line.getAttribute('data-tx')).toBe(hash)
      expect(await line.locator('td:nth-child(1)').textContent()).toMatch(/^x402 top-up from 0x/)
      expect(await line.locator('td:nth-child(2)').textContent()).toBe('$1.00')
      expect(await line.locator('td:nth-child(3) a').getAttribute('href')).toBe(explorer)
      await manage.screenshot({ path: join(screenshotDir, 'manage-x402.png'), fullPage: true })
      // The paying wallet owns the org like any owner: it authorizes a permit here.
      await manage.fill('#cap', '2')
      await manage.click('#sign-authorize')
      await expect
        .poll(() => manage.getAttribute('#state', 'data-state'), { timeout: 20_000 })
        .toMatch(/^active/)
      expect(await manage.textContent('#f-cap')).toBe('$2.00')
      await manage.route('https://sepolia.basescan.org/**', (route) => route.abort())
      const opened = manage.waitForRequest((r) =>
        r.url().startsWith('https://sepolia.basescan.org/'),
      )
      await line.locator('td:nth-child(3) a').click()
      expect((await opened).url()).toBe(explorer)
    } finally {
      await browser.close()
      await api.stop()
      await chain.anvil.stop()
    }
  }, 180_000)
})
