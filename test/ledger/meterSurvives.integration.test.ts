import type { Logger } from '../../src/core/log.js'
import { createMeter, getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import { nowMicros } from '../../src/ledger/sql.js'
import { describe, expect, test } from '../fixtures.js'
import { answered } from '../support/answered.js'
import { config, newOrg } from './helpers.js'

/** A logger that keeps what it is told. */
function keepingLogger(lines: Array<{ msg: string; fields?: Record<string, unknown> }>): Logger {
  const keep = (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, fields })
  const log: Logger = { debug: keep, info: keep, warn: keep, error: keep, child: () => log }
  return log
}

describe('the meter outlives a batch that fails for an unexpected reason', () => {
  test('the batch fails with METERING_FAILED, is logged once, and the next one is metered', async ({
    db,
  }) => {
    const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = []
    // A bug stand-in: the clock throws while one batch is being decided.
    let broken = false
    const clock = () => {
      if (broken) throw new TypeError('Cannot mix BigInt and other types, use explicit conversions')
      return nowMicros()
    }
    const meter = createMeter(db, {
      rateCard: config.rateCard,
      product: config.product,
      clock,
      log: keepingLogger(lines),
    })
    const org = await newOrg(db)
    // Metered once, so the next batch is decided on the cached account (where the crash was).
    await meter.meter({ orgId: org.orgId, action: 'heartbeat' })
    broken = true
    const failed = await meter.meter({ orgId: org.orgId, action: 'save_comment' }).then(
      () => undefined,
      (e: unknown) => e,
    )
    broken = false
    expect(answered(failed)).toMatchObject({ code: 'METERING_FAILED', status: 500 })
    expect(lines.map((l) => l.msg)).toEqual(['metering batch failed'])

    const after = await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    expect(after).toMatchObject({ action: 'save_comment', priceMicros: '5000' })
    const summary = await getBillingSummary(db, org.orgId)
    expect(summary.signupCredit).toBe(2_000_000n - 100n - 5_000n)
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    await meter.close()
  })
})
