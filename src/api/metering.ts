import type { NextFunction, Request, Response } from 'express'
import { commitUsage, type MeterOutcome, voidUsage } from '../ledger/index.js'
import { type Auth, authOf } from './auth.js'
import type { AppContext } from './context.js'
import { requestIdempotency } from './idempotency.js'

/** How a metered response shows its charge. */
export const meteredView = (o: MeterOutcome | null) =>
  o === null
    ? null
    : {
        usage_id: o.usageId,
        action: o.action,
        quantity: o.quantity,
        price_micros: o.priceMicros,
        voucher_micros: o.voucherMicros,
        included_micros: o.includedMicros ?? '0',
        included_units: o.includedUnits ?? 0,
        prepaid_micros: o.prepaidMicros,
        billable_micros: o.billableMicros,
        free: o.free,
        rate_version: o.rateVersion,
        replayed: o.replayed,
      }

/** Who an action is metered for: the org, and the API key behind the call (its usage row names it). */
export type Caller = Pick<Auth, 'orgId' | 'keyId'>

export type MeterStep = {
  action: string
  quantity?: number
  /** For lease wind-down (heartbeat, checkpoint, release_issue): when the lease was claimed. */
  leaseClaimedAt?: Date | null
}

/** The ledger's idempotency key for this request's charge of `action`, when the request has one. */
const ledgerKey = (action: string) => {
  const key = requestIdempotency.getStore()?.key
  return key === undefined ? undefined : `http:${action}:${key}`
}

/**
 * Meters one action as its own durable step (group-committed by the ledger), then does the
 * work. If the work throws, the usage is voided and the error goes on. A refusal
 * (`BILLING_INACTIVE`, `SPEND_CAP_REACHED`) throws before any work is done.
 */
export async function metered<T>(
  ctx: AppContext,
  caller: Caller,
  step: MeterStep,
  work: (outcome: MeterOutcome) => Promise<T>,
  /**
   * A read the work depends on (e.g. "the issue exists"), run alongside the metering step to
   * save a round trip; if it fails the usage is voided and its error goes on. The work itself
   * starts only after both.
   */
  precheck?: Promise<unknown>,
): Promise<{ result: T; outcome: MeterOutcome }> {
  const { orgId, keyId } = caller
  const [metering, checked] = await Promise.allSettled([
    ctx.meter.meter({
      orgId,
      keyId,
      action: step.action,
      quantity: step.quantity,
      leaseClaimedAt: step.leaseClaimedAt ?? undefined,
      idempotencyKey: ledgerKey(step.action),
    }),
    precheck,
  ])
  if (metering.status === 'rejected') {
    if (checked.status === 'rejected') throw checked.reason
    throw metering.reason
  }
  const outcome = metering.value
  try {
    if (checked.status === 'rejected') throw checked.reason
    return { result: await work(outcome), outcome }
  } catch (e) {
    await voidUsage(ctx.db, { orgId, usageId: outcome.usageId, reason: 'the work failed' }).catch(
      (v: Error) => ctx.log.error('void after failed work failed', { error: v.message }),
    )
    throw e
  }
}

/**
 * Meters an action whose quantity is known only after the work (a claim may find nothing):
 * reserves `upTo`, does the work, then commits the count it returns — or voids the
 * reservation when the count is 0 or the work throws, so an empty result costs nothing.
 */
export async function meteredUpTo<T>(
  ctx: AppContext,
  caller: Caller,
  step: MeterStep & { quantity: number },
  work: () => Promise<{ result: T; count: number }>,
): Promise<{ result: T; outcome: MeterOutcome | null }> {
  const { orgId, keyId } = caller
  const reserved = await ctx.meter.reserve({
    orgId,
    keyId,
    action: step.action,
    quantity: step.quantity,
    leaseClaimedAt: step.leaseClaimedAt ?? undefined,
  })
  let done: { result: T; count: number }
  try {
    done = await work()
  } catch (e) {
    await voidUsage(ctx.db, { orgId, usageId: reserved.usageId, reason: 'the work failed' }).catch(
      () => undefined,
    )
    throw e
  }
  if (done.count === 0) {
    await voidUsage(ctx.db, { orgId, usageId: reserved.usageId, reason: 'nothing to claim' })
    return { result: done.result, outcome: null }
  }
  const c = await commitUsage(ctx.db, { orgId, usageId: reserved.usageId, quantity: done.count })
  const unit = BigInt(reserved.unitPriceMicros)
  return {
    result: done.result,
    outcome: {
      ...reserved,
      status: 'recorded',
      quantity: done.count,
      // The plan's units of the action cover some of the count for nothing.
      priceMicros: (unit * BigInt(done.count - c.includedUnits)).toString(),
      voucherMicros: c.voucherMicros,
      includedMicros: c.includedMicros,
      includedUnits: c.includedUnits,
      prepaidMicros: c.prepaidMicros,
      billableMicros: c.billableMicros,
    },
  }
}

/**
 * Express middleware for any API: `router.post('/comments', meter(ctx, 'save_comment'), handler)`.
 * Meters before the handler (a refusal answers 402 and the handler never runs), puts the
 * outcome in `res.locals.metered`, and voids the usage if the handler answers 4xx/5xx.
 * `action` may be a function of the request (e.g. the highest-priced field an edit touches).
 *
 * @public For a service metering its own API (README, "Metering your own API"); Tollgate's own
 * routes meter through `metered`.
 */
export function meter(
  ctx: AppContext,
  action: string | ((req: Request) => string),
  opts: { quantity?: (req: Request) => number } = {},
) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const { orgId, keyId } = authOf(res)
    const step = {
      action: typeof action === 'string' ? action : action(req),
      quantity: opts.quantity?.(req),
    }
    // The request's Idempotency-Key reaches the ledger too: a retry whose first response was
    // never stored (the process died) gets the first charge back, not a second one.
    const outcome = await ctx.meter.meter({
      orgId,
      keyId,
      ...step,
      idempotencyKey: ledgerKey(step.action),
    })
    res.locals.metered = outcome
    res.on('finish', () => {
      if (res.statusCode >= 400)
        void voidUsage(ctx.db, {
          orgId,
          usageId: outcome.usageId,
          reason: 'the work failed',
        }).catch(() => undefined)
    })
    next()
  }
}
