import { createApiKey } from '../../src/api/keys.js'
import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { chargeOverCutLimit, setTermsOnChain } from './helpers.js'

const DAY = 86_400

describe('a charge larger than the limit the owner cut on-chain', () => {
  test('a charge larger than the cut limit itself waits until the owner raises it, and the billing view says so', async ({
    db,
    chain,
  }) => {
    // $0.014 booked, then the owner cuts the limit to $0.010: the charge can never fit it.
    const { ctx, meter, org, refused } = await chargeOverCutLimit(db, chain)
    const api = await startApi(db)
    try {
      expect(refused.failed.map((f) => f.reason)).toEqual(['limit'])
      expect(await getBillingSummary(db, org.orgId)).toMatchObject({
        monthlyLimit: 10_000n,
        waitingForLimit: 14_000n,
        limitTooLow: true,
      })
      // GET /v1/billing shows it to an agent's key too.
      const { key } = await createApiKey(db, { orgId: org.orgId })
      const billing = await api.call('GET', '/v1/billing', { key })
      expect(billing.status).toBe(200)
      expect(billing.json.authorization).toMatchObject({
        monthly_budget: { micros: '10000', usd: '$0.01' },
        waiting_for_budget: { micros: '14000', usd: '$0.014' },
        budget_too_low: true,
      })
      // The owner raises the limit: the charge fits, and is collected in the same window.
      await setTermsOnChain(chain, org, { limit: 20_000n, period: 30 * DAY, nonce: 3 })
      expect(await settleOnce(ctx, { orgIds: [org.orgId] })).toMatchObject({
        collected: 1,
        failed: [],
      })
      expect(await getBillingSummary(db, org.orgId)).toMatchObject({
        waitingForLimit: 0n,
        limitTooLow: false,
      })
      expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    } finally {
      await api.stop()
      await meter.close()
    }
  })
})
