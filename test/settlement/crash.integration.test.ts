import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import { describe, expect, test } from '../fixtures.js'
import { makeMeter } from '../ledger/helpers.js'
import { collectedPulls } from '../support/collectedPulls.js'
import { crashChildRunner } from '../support/crashChildRunner.js'
import { readSubscription } from '../support/readSubscription.js'
import { usdcBalance } from '../support/usdcBalance.js'
import { authorizedOrg, settlementContext } from './helpers.js'

const steps = ['claimed', 'signed', 'sent', 'receipt', 'random'] as const

describe('crash safety', () => {
  test('the settling process SIGKILLed at every step, 25 trials: no double pull, no lost charge', async ({
    db,
    databaseUrl,
    chain,
  }) => {
    const runChild = crashChildRunner({ databaseUrl, chain, name: 'deployment' })
    const meter = makeMeter(db)
    const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
    for (let trial = 0; trial < 25; trial++) {
      const step = steps[trial % steps.length]!
      const orgs = await Promise.all(
        [0, 1].map(() => authorizedOrg(db, chain, { cap: 1_000_000n, balance: 1_000_000n })),
      )
      for (const o of orgs)
        for (let i = 0; i < 3 + trial; i++)
          await meter.meter({ orgId: o.orgId, action: 'save_comment' })
      const signal = await runChild({
        script: 'test/settlement/settleChild.ts',
        at: step,
        env: { CRASH_ORGS: orgs.map((o) => o.orgId).join(',') },
        killAfterMs: step === 'random' ? 1_500 + Math.floor(Math.random() * 1_500) : undefined,
      })
      // The fixed steps are always reached: the child really died there.
      if (step !== 'random')
        expect({ trial, step, signal }).toEqual({ trial, step, signal: 'SIGKILL' })
      // A fresh worker takes over: it reconciles the dead one's batch with the chain, then settles.
      await settleOnce(ctx, { orgIds: orgs.map((o) => o.orgId), recoverOlderThanSeconds: 0 })
      for (const o of orgs) {
        const expected = 5_000n * BigInt(3 + trial)
        const s = await getBillingSummary(db, o.orgId)
        expect({ trial, step, drawn: s.drawn, accrued: s.accrued, booked: s.booked }).toEqual({
          trial,
          step,
          drawn: expected,
          accrued: 0n,
          booked: 0n,
        })
        const sub = await readSubscription(chain, o.subscriptionId)
        expect(sub.totalCollected).toBe(expected)
        expect(sub.lastSeq).toBe(1)
        expect((await collectedPulls(chain, o.subscriptionId)).map((p) => p.seq)).toEqual([1])
        const balance = await usdcBalance(chain, o.owner.address)
        expect(balance).toBe(1_000_000n - expected)
        expect(await reconcileLedger(db, { orgId: o.orgId })).toEqual([])
      }
    }
    await meter.close()
  }, 300_000)
})
