import type { AppContext } from '../../src/api/context.js'
import { getHealth } from '../../src/api/health.js'
import { usdcAbi } from '../../src/chain/abis.js'
import { getBillingSummary, listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { checkChainTruth } from '../../src/settlement/checkChainTruth.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('a payee the token blacklisted', () => {
  test("is the operator's problem: no owner lapses, the charges wait, and are collected once the payee is cleared", async ({
    db,
    chain,
  }) => {
    const meter = makeMeter(db)
    const blacklist = async (functionName: 'blacklist' | 'unBlacklist') =>
      chain.deployer.waitForTransactionReceipt({
        hash: await chain.deployer.writeContract({
          address: chain.deployment.usdc,
          abi: usdcAbi,
          functionName,
          args: [chain.deployment.payee],
        }),
      })
    const errors: string[] = []
    const log = {
      error: (message: string) => void errors.push(message),
      warn: () => {},
      info: () => {},
      debug: () => {},
    } as unknown as NonNullable<Parameters<typeof settlementContext>[2]>['log']
    try {
      const orgs = await Promise.all(
        [0, 1].map(() => authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })),
      )
      const orgIds = orgs.map((o) => o.orgId)
      for (const o of orgs) await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
      // Blacklisted between the claim and the send: the collector declines every item as
      // "blacklisted", and it is the payee, not the owners.
      const racing = settlementContext(db, chain, {
        thresholdMicros: 1n,
        log,
        onStep: async (step) => {
          if (step === 'claimed') await blacklist('blacklist')
        },
      })
      const declined = await settleOnce(racing, { orgIds })
      expect(declined.failed.map((f) => f.reason)).toEqual([
        'payee_blacklisted',
        'payee_blacklisted',
      ])
      for (const o of orgs)
        expect(await getBillingSummary(db, o.orgId)).toMatchObject({ state: 'active' })

      // While it lasts, nothing is sent (no gas spent on pulls that cannot land), it is logged,
      // and the chain-truth check lapses nobody.
      const ctx = settlementContext(db, chain, { thresholdMicros: 1n, log })
      expect(await settleOnce(ctx, { orgIds })).toMatchObject({
        batches: 0,
        payeeBlacklisted: true,
      })
      expect(errors).toContain(
        'the token blacklisted the payee: no collection can land, nothing is sent',
      )
      expect(await checkChainTruth(ctx, { orgIds })).toEqual([])
      const health = () =>
        getHealth({
          db,
          chain: {
            reader: chain.operator,
            chainId: chain.deployment.chainId,
            usdc: chain.deployment.usdc,
            collector: chain.deployment.collector,
            deployment: chain.deployment,
          },
        } as unknown as AppContext)
      expect(await health()).toMatchObject({
        status: 'degraded',
        chain: { ok: true, payee: { address: chain.deployment.payee, blacklisted: true } },
      })

      // Cleared: the same charges are collected.
      await blacklist('unBlacklist')
      expect(await settleOnce(ctx, { orgIds })).toMatchObject({
        collected: 2,
        failed: [],
        payeeBlacklisted: false,
      })
      expect(await health()).toMatchObject({
        status: 'ok',
        chain: { payee: { blacklisted: false } },
      })
      for (const o of orgs) {
        expect((await listCharges(db, { orgId: o.orgId })).map((c) => [c.seq, c.status])).toEqual([
          [1, 'collected'],
        ])
        expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
      }
    } finally {
      await meter.close()
    }
  })
})
