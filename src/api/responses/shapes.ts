import { z } from 'zod'
import { issueStatus } from '../../queue/schemas.js'

// The shapes several answers share.

export const timestamp = z.iso.datetime({ offset: true })
export const uuid = z.uuid()
export const digits = z.string().regex(/^-?\d+$/)
export const money = z.strictObject({ micros: digits, usd: z.string() })
/** What was metered in a group of usage (a day, an action, a tier, a key). */
export const usageTotals = z.strictObject({
  calls: z.number().int(),
  quantity: z.number().int(),
  voucher: money,
  billable: money,
  total: money,
})
export const role = z.enum(['owner', 'admin', 'member'])

/** The charge of a metered write (null when nothing was charged: an empty poll). */
export const metered = z
  .strictObject({
    usage_id: z.string(),
    action: z.string(),
    quantity: z.number().int(),
    price_micros: digits,
    voucher_micros: digits,
    included_micros: digits,
    included_units: z.number().int(),
    prepaid_micros: digits,
    billable_micros: digits,
    free: z.enum(['wind_down', 'session_key']).nullable(),
    rate_version: z.string(),
    replayed: z.boolean(),
  })
  .nullable()

/** An org's plan: its included monthly allowance, what this UTC month used of it, when it renews. */
export const plan = z.strictObject({
  /** Null for a plan of units only. */
  included_monthly: money.nullable(),
  used: money,
  remaining: money,
  window_start: timestamp,
  renews_at: timestamp,
  /** Units of each named action included a month, what this month drew, when it renews. */
  included_actions: z.record(
    z.string(),
    z.strictObject({
      included: z.number().int(),
      used: z.number().int(),
      remaining: z.number().int(),
      renews_at: timestamp,
    }),
  ),
})

/** A spend budget of the org or of one API key, as it stands now. */
export const budget = z.strictObject({
  scope: z.enum(['key', 'org']),
  key_id: uuid.nullable(),
  period: z.enum(['day', 'week', 'month']),
  limit: money,
  override: z.strictObject({ limit: money, until: timestamp }).nullable(),
  effective_limit: money,
  spent: money,
  remaining: money,
  window_start: timestamp,
  resets_at: timestamp,
})

/** A prepaid top-up: pulled through the collector, credited to the prepaid balance when collected. */
export const topUp = z.strictObject({
  id: digits,
  amount: money,
  bonus: money.describe(
    'a package’s bonus credit (PREPAID_PACKAGES), credited beside amount when collected; never pulled, never redeemable; 0 without a package',
  ),
  status: z.enum(['booked', 'submitted', 'collected', 'failed', 'written_off']),
  failure_reason: z.string().nullable(),
  tx_hash: z.string().nullable(),
  auto: z.boolean(),
  created_at: timestamp,
  updated_at: timestamp,
})

/** A prepaid package the operator offers: a top-up of exactly `price` also credits `bonus`. */
export const prepaidPackage = z.strictObject({
  price: money,
  bonus: money.describe('credited beside the price when the top-up is collected; never redeemable'),
})

export const issue = z.strictObject({
  id: uuid,
  title: z.string(),
  body: z.string(),
  status: issueStatus,
  priority: z.number().int(),
  checkpoint: z.string().nullable(),
  lease: z
    .strictObject({
      holder: z.string().nullable(),
      claimed_at: timestamp.nullable(),
      expires_at: timestamp.nullable(),
      token: z.string().nullable().optional(),
    })
    .nullable(),
  created_at: timestamp,
  updated_at: timestamp,
})
export const comment = z.strictObject({ id: uuid, body: z.string(), created_at: timestamp })
export const attachment = z.strictObject({
  id: uuid,
  name: z.string(),
  content_type: z.string(),
  size_bytes: z.number(),
  url: z.string().nullable(),
  created_at: timestamp,
})
export const session = {
  token: z.string(),
  org_id: uuid,
  role,
  expires_at: timestamp,
}

export const endpoint = z.strictObject({
  id: uuid,
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.string()),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  previous_secret_expires_at: timestamp.nullable(),
  created_at: timestamp,
})

/** The owner's notice mail settings, as every /v1/notifications/email answer gives them. */
export const emailSettings = z.strictObject({
  email: z.strictObject({
    address: z.string().nullable(),
    verified: z.boolean(),
    kinds: z.array(z.string()),
    updated_at: timestamp.nullable(),
  }),
  kinds_available: z.array(z.string()),
})
