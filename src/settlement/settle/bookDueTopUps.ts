import { listDueAutoTopUps, requestTopUp, TopUpRefusedError } from '../../ledger/index.js'
import type { SettlementContext } from '../context.js'

/**
 * Books the auto top-up of every prepaid org whose balance fell below its threshold: one top-up
 * per org at a time (its open top-up blocks another, so one dip is never pulled twice); the
 * claim then sends it with the charges. An amount that is a package's price earns its bonus
 * (decided when booked, credited once when collected: docs/prepaid.md, Packages). A refusal (one open meanwhile, past what the permit has
 * left) books nothing and is logged; the owner sees why in the billing view.
 *
 * @example
 * report.topUps = await bookDueTopUps(ctx, { orgIds })
 */
export async function bookDueTopUps(
  ctx: SettlementContext,
  p: { orgIds?: string[] | undefined } = {},
): Promise<number> {
  let booked = 0
  for (const due of await listDueAutoTopUps(ctx.db, p)) {
    try {
      await requestTopUp(ctx.db, {
        orgId: due.orgId,
        amount: due.amount,
        auto: { threshold: due.threshold },
        // An amount that is a package's price earns its bonus, as a requested top-up does.
        packages: ctx.prepaidPackages,
      })
      booked++
    } catch (error) {
      if (!(error instanceof TopUpRefusedError)) throw error
      ctx.log?.warn('auto top-up not booked', { orgId: due.orgId, reason: error.details })
    }
  }
  return booked
}
