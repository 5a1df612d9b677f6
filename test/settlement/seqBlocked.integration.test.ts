import {
  bookCharges,
  getBillingSummary,
  listCharges,
  writeOffCharge,
} from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { authorizedOrg, settlementContext } from './helpers.js'

describe('a seq the ledger will never collect', () => {
  test('the charges after it are held, not sent into a seq gap pass after pass, and the seq to retire is reported', async ({
    db,
    chain,
  }) => {
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    const meter = makeMeter(db)
    const nonce = () =>
      chain.operator.getTransactionCount({ address: chain.operator.account.address })
    try {
      const o = await authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })
      // Seq 1 is written off without ever reaching the chain (lost off-chain); seq 2 is owed.
      await meter.meter({ orgId: o.orgId, action: 'claim_issue' })
      const [lost] = await bookCharges(db, { orgId: o.orgId })
      await writeOffCharge(db, { chargeId: lost!.id, reason: 'lost off-chain' })
      await meter.meter({ orgId: o.orgId, action: 'save_comment' })
      const first = await settleOnce(ctx, { orgIds: [o.orgId] })
      expect(first.failed.map((f) => f.reason)).toEqual(['seq_blocked'])
      const [next] = (await listCharges(db, { orgId: o.orgId })).filter((c) => c.seq === 2)
      expect(first.blocked).toEqual([
        { subscriptionId: o.subscriptionId, seq: 1, chargeId: next!.id },
      ])
      // The next passes send nothing: no gas for a pull that can only fail the same way.
      const before = await nonce()
      for (let i = 0; i < 2; i++)
        expect(await settleOnce(ctx, { orgIds: [o.orgId] })).toMatchObject({
          batches: 0,
          failed: [],
        })
      expect(await nonce()).toBe(before)
      expect(await getBillingSummary(db, o.orgId)).toMatchObject({
        state: 'active',
        booked: 5_000n,
      })
    } finally {
      await meter.close()
    }
  })
})
