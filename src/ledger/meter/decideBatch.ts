import type { LockedAccount } from '../accounts.js'
import {
  BillingInactiveError,
  IdempotencyConflictError,
  MeteringFailedError,
  NoBillingAccountError,
  SpendCapReachedError,
  UnknownActionError,
} from '../errors.js'
import { meterStep } from '../movements.js'
import { unitPrice } from '../rateCard.js'
import type {
  CreateMeterParameters,
  Decided,
  Item,
  MeterOutcome,
  NewUsage,
  Result,
  StoredOutcome,
} from './types.js'

/**
 * Decides every item of a batch with the gate, in order, on `accounts` (changed in place, as
 * each accepted action moves them). `stored` holds the idempotency keys already recorded; a
 * retry of a key seen earlier in the batch is answered with that earlier outcome.
 */
export function decideBatch(
  batch: Item[],
  accounts: Map<string, LockedAccount>,
  stored: Map<string, StoredOutcome>,
  options: Pick<CreateMeterParameters, 'rateCard' | 'product'>,
  now: bigint,
  /** A reservation's hold, in seconds, unless it names its own. */
  ttl: number,
): Decided {
  const results: Result[] = []
  const newUsage: NewUsage[] = []
  const transitions: Decided['transitions'] = []
  const reached: Decided['reached'] = []

  // One item's decision; an item that cannot be decided fails alone (see below).
  const decideOne = (item: Item) => {
    const { p } = item
    const account = accounts.get(p.orgId)
    if (!account) {
      results.push(new NoBillingAccountError(p.orgId))
      return
    }
    const storeKey =
      p.idempotencyKey === undefined ? undefined : `${p.orgId}\u0000${p.idempotencyKey}`
    const previous = storeKey ? stored.get(storeKey) : undefined
    if (previous) {
      results.push(
        previous.hash === item.requestHash
          ? { replayOf: previous.outcome }
          : new IdempotencyConflictError(p.idempotencyKey!),
      )
      return
    }
    const quantity = p.quantity ?? 1
    const price = unitPrice(options.rateCard, p.action)
    if (price === undefined) {
      results.push(new UnknownActionError(p.action))
      return
    }
    const hold = item.op === 'reserve'
    const step = meterStep(
      account,
      {
        action: p.action,
        quantity,
        unitPrice: price,
        now,
        leaseClaimedAt: p.leaseClaimedAt ? BigInt(p.leaseClaimedAt.getTime()) * 1000n : undefined,
        keyId: p.keyId ?? null,
      },
      { hold },
    )
    if (step.kind === 'refused') {
      const decision = step.decision
      if (decision.code === 'SPEND_CAP_REACHED') {
        if (decision.budget)
          reached.push({
            orgId: account.orgId,
            subscriptionId: account.subscriptionId,
            budgetId: decision.budget.id,
            keyId: decision.budget.keyId,
            period: decision.period!,
            windowStart: decision.budget.windowStart,
            limit: decision.limit,
            spent: decision.spent,
          })
        results.push(
          new SpendCapReachedError({
            subscriptionId: account.subscriptionId,
            scope: decision.scope,
            period: decision.period,
            limit: decision.limit,
            spent: decision.spent,
            resetsAt: decision.resetsAt,
            publicBaseUrl: options.product.publicBaseUrl,
          }),
        )
      } else {
        if (step.movedToNeedsReauth)
          transitions.push({ subscriptionId: account.subscriptionId, orgId: account.orgId })
        results.push(
          new BillingInactiveError({
            reason: decision.reason,
            subscriptionId: account.subscriptionId,
            state: account.state,
            mode: account.mode,
            productName: options.product.name,
            dashboardUrl: options.product.dashboardUrl,
            publicBaseUrl: options.product.publicBaseUrl,
          }),
        )
      }
      return
    }
    account.dirty = true
    const { voucher, billable } = step.amounts
    const prepaid = step.amounts.prepaid ?? 0n
    const included = step.amounts.included ?? 0n
    const decision = step.decision
    const entries = step.movements.map((m) => ({ ...m, at: now, memo: p.action }))
    const outcome: Omit<MeterOutcome, 'usageId'> = {
      orgId: p.orgId,
      subscriptionId: account.subscriptionId,
      action: p.action,
      quantity,
      unitPriceMicros: price.toString(),
      priceMicros: (voucher + included + prepaid + billable).toString(),
      voucherMicros: voucher.toString(),
      includedMicros: included.toString(),
      ...(step.amounts.units ? { includedUnits: step.amounts.units } : {}),
      prepaidMicros: prepaid.toString(),
      billableMicros: billable.toString(),
      free: decision.kind === 'free' ? decision.reason : null,
      rateVersion: options.rateCard.version,
      windowIndex: decision.windowIndex,
      status: hold ? 'reserved' : 'recorded',
      replayed: false,
    }
    const expiresAt = hold ? now + BigInt(p.ttlSeconds ?? ttl) * 1_000_000n : null
    newUsage.push({ item, account, outcome, expiresAt, entries })
    results.push(outcome as MeterOutcome) // usageId filled in when the write returns
    // A later retry with the same key in this very batch sees this outcome.
    if (storeKey) stored.set(storeKey, { hash: item.requestHash, outcome: outcome as MeterOutcome })
  }
  for (const item of batch) {
    try {
      decideOne(item)
    } catch (error) {
      // A bug, not a refusal: this action fails, the rest of the batch is decided and written.
      results.push(new MeteringFailedError(error))
    }
  }
  return { results, newUsage, transitions, reached }
}

/** The gate's refusals: they write nothing (unless they move the subscription). */
export const isRefusal = (r: unknown) =>
  r instanceof BillingInactiveError || r instanceof SpendCapReachedError
