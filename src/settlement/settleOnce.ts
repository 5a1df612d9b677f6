import type { SettlementContext } from './context.js'
import { isPayeeBlacklisted } from './isPayeeBlacklisted.js'
import { bookDueCharges } from './settle/bookDueCharges.js'
import { bookDueTopUps } from './settle/bookDueTopUps.js'
import { claimBatch } from './settle/claimBatch.js'
import { recoverOpenBatches } from './settle/recoverOpenBatches.js'
import type { SettleReport } from './settle/report.js'
import { sendBatch } from './settle/sendBatch.js'

/**
 * One settlement pass (the worker's job, and `tollgate settle --once`): reconcile what a
 * crash left, book what is due, then collect in batches until nothing sendable is left. Each
 * phase is a file in settle/: recoverOpenBatches → bookDueCharges →
 * bookDueTopUps (prepaid orgs below their auto top-up threshold) → (claimBatch → sendBatch)*.
 *
 * @example
 * const report = await settleOnce(ctx, { orgIds: [orgId] })
 */
export async function settleOnce(
  ctx: SettlementContext,
  p: { orgIds?: string[]; recoverOlderThanSeconds?: number } = {},
): Promise<SettleReport> {
  const report: SettleReport = {
    recovered: 0,
    booked: 0,
    topUps: 0,
    batches: 0,
    collected: 0,
    failed: [],
    txHashes: [],
    gasUsed: 0n,
    payeeBlacklisted: false,
    blocked: [],
  }
  report.recovered = await recoverOpenBatches(ctx, { olderThanSeconds: p.recoverOlderThanSeconds })
  report.booked = await bookDueCharges(ctx, { orgIds: p.orgIds })
  report.topUps = await bookDueTopUps(ctx, { orgIds: p.orgIds })
  if (await isPayeeBlacklisted(ctx.operator, ctx.deployment)) {
    // Every pull would be declined, for gas: nothing is sent until the operator sorts it out.
    ctx.log?.error('the token blacklisted the payee: no collection can land, nothing is sent', {
      payee: ctx.deployment.payee,
    })
    report.payeeBlacklisted = true
    return report
  }
  const sent: string[] = []
  for (;;) {
    const claimed = await claimBatch(ctx, ctx.batchSize ?? 100, sent)
    if (!claimed) break
    for (const c of claimed.charges) sent.push(c.id.toString())
    report.batches++
    await ctx.onStep?.('claimed')
    await sendBatch(ctx, claimed.batchId, claimed.charges, report)
  }
  return report
}
