import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { createOrg, createOrgIn } from '../../src/api/createOrg.js'
import { usdcAbi } from '../../src/chain/abis.js'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { acceptPayment } from '../../src/x402/acceptPayment.js'
import { creditPayment } from '../../src/x402/creditPayment.js'
import { creditSettledPayments } from '../../src/x402/creditSettledPayments.js'
import { paymentRequired } from '../../src/x402/paymentRequired.js'
import { describe, expect, test } from '../fixtures.js'
import { crashChildRunner } from '../support/crashChildRunner.js'
import { pay, x402Context } from './helpers.js'

const steps = ['recorded', 'sent', 'settled', 'random'] as const

const openOrg = (tx: Parameters<typeof createOrgIn>[0], owner: `0x${string}`) =>
  createOrgIn(tx, {
    name: 'crash',
    ownerAddress: owner,
    signupCreditMicros: 0n,
    creditsPerOwner: 0,
  })

describe('x402 crash safety', () => {
  test('the paying process SIGKILLed between record, settle and credit, 24 trials: each settled authorization credited exactly once', async ({
    db,
    databaseUrl,
    chain,
  }) => {
    const runChild = crashChildRunner({ databaseUrl, chain, name: 'x402-deployment' })
    // This test is the only process left after each kill: a claim without a transaction is dead.
    const ctx = await x402Context(db, chain, { deadClaimSeconds: 0 })
    const required = await paymentRequired(ctx, { url: 'http://t/v1/usage', description: 'top-up' })
    for (let trial = 0; trial < 24; trial++) {
      const step = steps[trial % steps.length]!
      const signup = trial % 2 === 1
      const wallet = privateKeyToAccount(generatePrivateKey())
      await mintUsdc(chain.deployer, chain.deployment, { to: wallet.address, amount: 3_000_000n })
      const orgId = signup
        ? ''
        : (
            await createOrg(db, {
              name: `crash ${trial}`,
              ownerAddress: privateKeyToAccount(generatePrivateKey()).address,
              signupCreditMicros: 0n,
              creditsPerOwner: 0,
            })
          ).orgId
      const { header } = await pay(wallet, required)
      const signal = await runChild({
        script: 'test/x402/crashChild.ts',
        at: step,
        env: { CRASH_HEADER: header, CRASH_ORG: orgId },
        killAfterMs: step === 'random' ? 1_000 + Math.floor(Math.random() * 2_500) : undefined,
      })
      if (step !== 'random')
        expect({ trial, step, signal }).toEqual({ trial, step, signal: 'SIGKILL' })

      // After the restart, the recovery pass alone credits whatever was settled.
      await creditSettledPayments(ctx, openOrg)
      const payer = wallet.address.toLowerCase()
      const [row] = await db.$client<{ status: string; credited: boolean }[]>`
        select status, credited_at is not null as credited from x402_payments where payer = ${payer}`
      if (step === 'sent' || step === 'settled')
        expect({ trial, step, row }).toEqual({
          trial,
          step,
          row: { status: 'settled', credited: true },
        })
      if (step === 'recorded')
        expect({ trial, step, row }).toEqual({
          trial,
          step,
          row: { status: 'recorded', credited: false },
        })

      // The agent presents its payment again (and the pass runs again): still once.
      const p = await acceptPayment(ctx, {
        header,
        purpose: signup ? 'signup' : 'topup',
        orgId: signup ? null : orgId,
      })
      await creditPayment(ctx, p.id, openOrg)
      await creditSettledPayments(ctx, openOrg)

      const credits = await db.$client<{ org_id: string; amount: string }[]>`
        select c.org_id, c.amount::text from prepaid_credits c
        join x402_payments x on x.org_id = c.org_id
        where x.payer = ${payer} and c.source = 'x402'`
      expect({ trial, step, n: credits.length, amount: credits[0]?.amount }).toEqual({
        trial,
        step,
        n: 1,
        amount: '1000000',
      })
      const [{ orgs }] = (await db.$client`select count(*)::int as orgs from orgs
        where owner_address = ${payer}`) as unknown as [{ orgs: number }]
      expect({ trial, orgs }).toEqual({ trial, orgs: signup ? 1 : 0 })
      const transfers = await chain.operator.getContractEvents({
        address: chain.deployment.usdc,
        abi: usdcAbi,
        eventName: 'Transfer',
        args: { from: wallet.address, to: chain.deployment.payee },
        fromBlock: 0n,
      })
      expect({ trial, step, transfers: transfers.length }).toEqual({ trial, step, transfers: 1 })
    }
  }, 600_000)
})
