import { createLogger } from '../../src/core/log.js'
import { checkOperatorEth } from '../../src/notifications/checkOperatorEth.js'
import { describe, expect, test } from '../fixtures.js'
import { newOrg } from '../ledger/helpers.js'
import { startNotificationRig } from '../support/notificationRig.js'

describe('events the worker causes, delivered by webhook', () => {
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
})
