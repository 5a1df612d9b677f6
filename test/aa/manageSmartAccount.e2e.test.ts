import { join } from 'node:path'
import type { Account } from 'viem'
import { getBillingSummary } from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { startApi } from '../api/server.js'
import { attachChain, injectTestWallet, launchBrowser, screenshotDir } from '../browser/browser.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { settlementContext } from '../settlement/helpers.js'
import type { SmartAccountKind } from '../support/toOwnerSmartAccount.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { aaRig, newSmartOwner } from './helpers.js'

const owners: { kind: SmartAccountKind; deployed: boolean; label: string }[] = [
  { kind: 'safe', deployed: false, label: 'safe-counterfactual' },
  { kind: 'simple7702', deployed: true, label: 'eip7702' },
]

describe('the hosted manage page in Chromium with a smart-account wallet', () => {
  test("counterfactual Safe and EIP-7702 owners: sign in (ERC-6492 / ERC-1271), authorize (the Safe's held until its first charge), usage settles from the smart account, cancel by signature", async ({
    db,
    chain,
  }) => {
    const rig = await aaRig(chain)
    const api = await startApi(db)
    attachChain(api, chain)
    const browser = await launchBrowser()
    const meter = makeMeter(db)
    try {
      for (const o of owners) {
        const owner = await newSmartOwner(chain, rig, {
          kind: o.kind,
          deployed: o.deployed,
          usdc: 5_000_000n,
        })
        const wallet = owner.account.address
        const org = (
          await api.call('POST', '/v1/orgs', { body: { name: o.label, owner_address: wallet } })
        ).json
        const page = await browser.newPage({ viewport: { width: 420, height: 900 } })
        const prompts: string[] = []
        // The browser rig's wallet signs through the account's own signTypedData/signMessage,
        // so a permissionless smart account plugs in as is.
        await injectTestWallet(page, {
          account: owner.account as unknown as Account,
          rpcUrl: chain.rpcUrl,
          onRequest: (m) => prompts.push(m),
        })
        await page.goto(`${api.url}/s/${org.subscription_id}`)
        await expect.poll(() => page.getAttribute('#state', 'data-state')).toBe('pending')
        await page.click('#connect')
        await page.waitForSelector('#owner', { state: 'visible', timeout: 15_000 })
        expect(await owner.account.isDeployed()).toBe(o.deployed)
        await page.fill('#cap', '3')
        await page.click('#sign-authorize')
        await expect
          .poll(() => page.getAttribute('#state', 'data-state'), { timeout: 20_000 })
          .toMatch(/^active/)
        expect(await page.textContent('#f-cap')).toBe('$3.00')
        // A counterfactual Safe's authorization is held, nothing sent: the page says the wallet
        // is deployed with its first charge; a delegated EOA's went on-chain at once.
        await expect
          .poll(() => page.textContent('#outcome h2'))
          .toMatch(
            o.deployed
              ? /^Authorized: up to \$3\.00 in total/
              : /^Authorized\. Your wallet is deployed with its first charge\.$/,
          )
        expect(await owner.account.isDeployed()).toBe(o.deployed)
        expect(await page.isVisible('#held')).toBe(!o.deployed)
        if (!o.deployed) {
          // Held until the first charge: the page asked for a permit that outlives that wait.
          const [held] = await db.$client<{ permit_deadline: string }[]>`
            select permit_deadline from held_authorizations where subscription_id = ${org.subscription_id}`
          expect(BigInt(held!.permit_deadline)).toBeGreaterThan(
            BigInt(Math.floor(Date.now() / 1000) + 89 * 86_400),
          )
        }
        await page.screenshot({
          path: join(screenshotDir, `aa-manage-${o.label}-authorized.png`),
          fullPage: true,
        })

        // $2 signup credit first, then $0.10 billable, pulled from the smart account.
        for (let i = 0; i < 300; i++)
          await meter.meter({ orgId: org.org.id, action: 'claim_issue' })
        const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
        expect(await settleOnce(ctx, { orgIds: [org.org.id] })).toMatchObject({ collected: 1 })
        // The first charge was due and covered: the held permit went through the collector's
        // 6492 validator with it, so the Safe exists now.
        expect(await owner.account.isDeployed()).toBe(true)
        expect(await usdcBalance(chain, wallet)).toBe(4_900_000n)

        await page.click('#cancel')
        await page.click('#cancel-yes')
        await expect
          .poll(() => page.getAttribute('#state', 'data-state'), { timeout: 20_000 })
          .toContain('canceled')
        expect(await page.isVisible('#held')).toBe(false)
        expect(await getBillingSummary(db, org.org.id)).toMatchObject({
          state: 'canceled',
          drawn: 100_000n,
        })
        expect(prompts).toEqual(
          expect.arrayContaining(['eth_requestAccounts', 'personal_sign', 'eth_signTypedData_v4']),
        )
        await page.close()
      }
    } finally {
      await meter.close()
      await browser.close()
      await api.stop()
    }
  }, 120_000)
})
