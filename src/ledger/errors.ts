import { BaseError } from '../core/errors.js'

export type BillingInactiveParameters = {
  reason: 'inactive' | 'no_credit'
  subscriptionId: string
  state: string
  /** A prepaid org's refusal says its balance is used up, and the link is where it tops up. */
  mode?: 'postpaid' | 'prepaid' | undefined
  productName: string
  dashboardUrl: string
  publicBaseUrl: string
}

/**
 * The org cannot do paid work. Worded as the spec's error, with the product name and
 * dashboard from config and the re-up link `/s/<subscription_id>`.
 */
export class BillingInactiveError extends BaseError {
  override name = 'BillingInactiveError'
  constructor(p: BillingInactiveParameters) {
    const host = p.dashboardUrl.replace(/^https?:\/\//, '').replace(/\/$/, '')
    const prepaid = p.mode === 'prepaid'
    const why = prepaid
      ? 'your prepaid balance is used up'
      : p.reason === 'no_credit'
        ? "your starting credit is used up and there's no active subscription"
        : 'this org has no active subscription'
    const act = prepaid ? 'Top up' : 'Re-authorize'
    super(
      `BILLING_INACTIVE: ${why} — reads are allowed but writes are blocked. ${act} in the ${p.productName} Dash (${host}) or at /s/${p.subscriptionId}.`,
      {
        code: 'BILLING_INACTIVE',
        details: {
          reason: p.reason,
          state: p.state,
          ...(prepaid ? { billing_mode: 'prepaid' } : {}),
          subscription_id: p.subscriptionId,
          reup_url: `${p.publicBaseUrl}/s/${p.subscriptionId}`,
          dashboard_url: p.dashboardUrl,
        },
      },
    )
  }
}

/** The monthly limit is reached; new paid work waits for the next window or a raised limit. */
export class SpendCapReachedError extends BaseError {
  override name = 'SpendCapReachedError'
  constructor(p: {
    subscriptionId: string
    /** Whose cap: the signed on-chain window's limit, an API key's budget or the org's. */
    scope: 'key' | 'org' | 'onchain_window'
    /** A budget's period (day, week, month); null for the on-chain window. */
    period: string | null
    limit: bigint
    spent: bigint
    /** When the window it counts in ends, microseconds since the epoch (null: not known). */
    resetsAt: bigint | null
    publicBaseUrl: string
  }) {
    const resets = p.resetsAt === null ? null : new Date(Number(p.resetsAt / 1000n)).toISOString()
    const what =
      p.scope === 'onchain_window'
        ? `this org reached its monthly limit of ${p.limit} micro-credits; paid work resumes in the next period or when the owner raises the limit at /s/${p.subscriptionId}.`
        : `${p.scope === 'key' ? 'this API key' : 'this org'} reached its ${p.period} budget of ${p.limit} micro-credits; paid work resumes${resets ? ` at ${resets}` : ''} or when an owner or admin raises the budget.`
    super(`SPEND_CAP_REACHED: ${what}`, {
      code: 'SPEND_CAP_REACHED',
      details: {
        scope: p.scope,
        period: p.period,
        limit_micros: p.limit.toString(),
        spent_micros: p.spent.toString(),
        resets_at: resets,
        subscription_id: p.subscriptionId,
        ...(p.scope === 'onchain_window' ? { monthly_limit_micros: p.limit.toString() } : {}),
        manage_url: `${p.publicBaseUrl}/s/${p.subscriptionId}`,
      },
    })
  }
}

/**
 * The idempotency key was used before with other parameters: a ledger verb's `key` (echoed in
 * the details), or the API's `Idempotency-Key` header (`key` undefined, `message` its own).
 * The one class behind `IDEMPOTENCY_CONFLICT`.
 */
export class IdempotencyConflictError extends BaseError {
  override name = 'IdempotencyConflictError'
  constructor(
    key: string | undefined,
    message = `idempotency key "${key}" was already used with different parameters`,
  ) {
    super(message, {
      code: 'IDEMPOTENCY_CONFLICT',
      details: key === undefined ? undefined : { idempotency_key: key },
    })
  }
}

/** The action has no price in the rate card (at start-up this is a configuration error). */
export class UnknownActionError extends BaseError {
  override name = 'UnknownActionError'
  constructor(action: string) {
    super(`"${action}" is not a metered action in the rate card`, {
      code: 'UNKNOWN_ACTION',
      details: { action },
    })
  }
}

/** A state change the state machine does not allow. */
export class InvalidTransitionError extends BaseError {
  override name = 'InvalidTransitionError'
  constructor(p: { subscriptionId: string; from: string; to: string }) {
    super(`subscription ${p.subscriptionId} cannot go from ${p.from} to ${p.to}`, {
      code: 'INVALID_TRANSITION',
      details: { subscription_id: p.subscriptionId, from: p.from, to: p.to },
    })
  }
}

/** No billing account for the org. */
export class NoBillingAccountError extends BaseError {
  override name = 'NoBillingAccountError'
  constructor(orgId: string) {
    super(`org ${orgId} has no billing account`, { code: 'NO_BILLING_ACCOUNT' })
  }
}

/** A reservation or usage that can no longer be committed or voided. */
export class UsageStateError extends BaseError {
  override name = 'UsageStateError'
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { code: 'USAGE_STATE', details })
  }
}

/**
 * Metering an action failed for a reason that is neither the caller's nor the database's
 * (a bug). Only the actions it touched fail; the engine goes on with the rest.
 */
export class MeteringFailedError extends BaseError {
  override name = 'MeteringFailedError'
  constructor(cause: unknown) {
    super('metering failed', { code: 'METERING_FAILED', cause })
  }
}

/** A refund asks for more than is left to refund of what was charged. */
export class RefundExceedsChargedError extends BaseError {
  override name = 'RefundExceedsChargedError'
  constructor(p: { charged: bigint; refunded: bigint; asked: bigint; chargeId?: string }) {
    super(
      `REFUND_EXCEEDS_CHARGED: ${p.asked} micro-credits asked, but only ${p.charged - p.refunded} of the ${p.charged} charged are left to refund`,
      {
        code: 'REFUND_EXCEEDS_CHARGED',
        details: {
          ...(p.chargeId ? { charge_id: p.chargeId } : {}),
          charged_micros: p.charged.toString(),
          refunded_micros: p.refunded.toString(),
          asked_micros: p.asked.toString(),
        },
      },
    )
  }
}

/** Usage lines that are not charged (void them instead) or not the org's billable usage. */
export class RefundNotChargedError extends BaseError {
  override name = 'RefundNotChargedError'
  constructor(message: string, details?: Record<string, unknown>) {
    super(`REFUND_NOT_CHARGED: ${message}`, { code: 'REFUND_NOT_CHARGED', details })
  }
}

/** A month that cannot be detached yet: some of its usage is not settled. */
export class MonthNotSettledError extends BaseError {
  override name = 'MonthNotSettledError'
  constructor(month: string, details: Record<string, unknown>) {
    super(`MONTH_NOT_SETTLED: ${month} has usage not settled yet`, {
      code: 'MONTH_NOT_SETTLED',
      details: { month, ...details },
    })
  }
}

/** Why a top-up cannot be requested now. */
export type TopUpRefusal =
  | 'not_prepaid'
  | 'no_permit'
  | 'in_flight'
  | 'exceeds_allowance'
  /** (Auto top-ups only: the dip ended before it was booked.) */
  | 'above_threshold'

/** A top-up that cannot be booked now (postpaid, no permit, one open, over the allowance). */
export class TopUpRefusedError extends BaseError {
  override name = 'TopUpRefusedError'
  constructor(reason: TopUpRefusal, message: string, details?: Record<string, unknown>) {
    super(`TOP_UP_REFUSED: ${message}`, {
      code: 'TOP_UP_REFUSED',
      details: { reason, ...details },
    })
  }
}
