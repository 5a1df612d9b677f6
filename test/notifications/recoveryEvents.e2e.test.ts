import { getAddress } from 'viem'
import { mintUsdc } from '../../src/chain/deployContracts.js'
import { createLogger } from '../../src/core/log.js'
import { checkOperatorEth } from '../../src/notifications/checkOperatorEth.js'
import { notificationJobs } from '../../src/notifications/jobs.js'
import { checkChainTruth } from '../../src/settlement/checkChainTruth.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { holdAuthorization } from '../../src/subscriptions/heldAuthorizations.js'
import { describe, expect, test } from '../fixtures.js'
import { config, makeMeter, newOrg } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from '../settlement/helpers.js'
import { startNotificationRig } from '../support/notificationRig.js'

describe('events the worker causes (operator ETH, a permit near its deadline, a recovery), delivered', () => {
  test('operator.eth_low: the operator wallet drained on anvil → the operator-eth job → delivered once to the operator org', async ({
    db,
    chain,
  }) => {
    const rig = await startNotificationRig(db, chain.deployment.chainId)
    const operatorOrg = await newOrg(db)
    await rig.subscribe(operatorOrg.orgId, 'operator@example.test')
    const address = chain.operator.account.address
    const before = await chain.operator.getBalance({ address })
    const job = {
      db,
      operator: chain.operator,
      thresholdWei: 10n ** 16n,
      orgId: operatorOrg.orgId,
      log: createLogger('error'),
    }
    try {
      // Well funded: the job says nothing.
      expect(await checkOperatorEth(job)).toBe(false)
      await chain.testClient.setBalance({ address, value: 10n ** 15n })
      expect(await checkOperatorEth(job)).toBe(true)
      expect(await checkOperatorEth(job)).toBe(false) // once per wallet per day
      await rig.drain()
      await rig.drain()

      const delivered = rig.delivered()
      expect(delivered).toHaveLength(1)
      const [event] = delivered
      expect(event!.webhookId).toBe(event!.id)
      expect(event).toMatchObject({
        type: 'operator.eth_low',
        org_id: operatorOrg.orgId,
        data: {
          address,
          balance_wei: (10n ** 15n).toString(),
          threshold_wei: (10n ** 16n).toString(),
        },
      })
      // For the operator only: no mail for this kind.
      expect(rig.mailsTo('operator@example.test').map((m) => m.subject)).not.toContainEqual(
        expect.stringContaining('ETH'),
      )
    } finally {
      await chain.testClient.setBalance({ address, value: before })
      await rig.stop()
    }
  })

  test('permit.expiring: a held permit 6 days from its deadline → the notify-due job → delivered once, by webhook and mail', async ({
    db,
    chain,
  }) => {
    const rig = await startNotificationRig(db, chain.deployment.chainId)
    const org = await newOrg(db, 0n)
    await rig.subscribe(org.orgId, 'holder@example.test')
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 6 * 86_400)
    await holdAuthorization(db, {
      ...org,
      auth: {
        owner: getAddress('0x00000000000000000000000000000000000000ab'),
        permit: { value: 1_000_000n, deadline, nonce: 0n, signature: '0x01' },
        terms: undefined,
      },
    })
    const due = notificationJobs({ db, config, log: createLogger('error') }).find(
      (j) => j.name === 'notify-due',
    )!
    try {
      await due.run(new AbortController().signal)
      await due.run(new AbortController().signal) // a second look writes nothing again
      await rig.drain()
      await rig.drain()

      const delivered = rig.delivered().filter((e) => e.org_id === org.orgId)
      expect(delivered).toHaveLength(1)
      const [event] = delivered
      expect(event!.webhookId).toBe(event!.id)
      const iso = new Date(Number(deadline) * 1000).toISOString().replace('.000', '')
      expect(event).toMatchObject({
        type: 'permit.expiring',
        subscription_id: org.subscriptionId,
        data: { deadline: iso, deadline_unix: deadline.toString(), manage_url: rig.manageUrl(org) },
      })
      const mails = rig.mailsTo('holder@example.test')
      expect(mails.map((m) => m.subject)).toEqual(['Tollgate: Your authorization expires soon'])
      expect(mails[0]!.text).toContain(`The authorization expires on ${iso}.`)
      expect(mails[0]!.text).toContain(rig.manageUrl(org))
    } finally {
      await rig.stop()
    }
  })

  test('subscription.recovered: lapsed by an empty wallet on anvil, the wallet funded → the chain-truth job → delivered once, by webhook and mail', async ({
    db,
    chain,
  }) => {
    const rig = await startNotificationRig(db, chain.deployment.chainId)
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const broke = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000n })
    await rig.subscribe(broke.orgId, 'broke@example.test')
    try {
      await meter.meter({ orgId: broke.orgId, action: 'claim_issue' }) // 7,000 > 1,000 held
      expect(await settleOnce(ctx, { orgIds: [broke.orgId] })).toMatchObject({ collected: 0 })
      // The owner funds the wallet with real USDC; the worker's chain-truth job sees it.
      await mintUsdc(chain.deployer, chain.deployment, {
        to: broke.owner.address,
        amount: 1_000_000n,
      })
      await checkChainTruth(ctx, { orgIds: [broke.orgId] })
      await checkChainTruth(ctx, { orgIds: [broke.orgId] }) // a second look changes nothing
      await rig.drain()
      await rig.drain()

      const delivered = rig.delivered().filter((e) => e.type !== 'subscription.activated')
      expect(delivered.map((e) => e.type)).toEqual([
        'charge.failed',
        'subscription.lapsed',
        'subscription.recovered',
      ])
      const recovered = delivered[2]!
      expect(recovered.webhookId).toBe(recovered.id)
      expect(recovered).toMatchObject({
        org_id: broke.orgId,
        subscription_id: broke.subscriptionId,
        data: { manage_url: rig.manageUrl(broke) },
      })
      const mails = rig.mailsTo('broke@example.test')
      const again = mails.filter((m) => m.subject === 'Tollgate: Your subscription is active again')
      expect(again).toHaveLength(1)
      expect(again[0]!.text).toContain('The subscription is active again; calls go through.')
      expect(again[0]!.text).toContain(rig.manageUrl(broke))
    } finally {
      await meter.close()
      await rig.stop()
    }
  })
})
