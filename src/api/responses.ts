import { z } from 'zod'
import { type ErrorCode, errorCodes } from '../errorCodes.js'
import { issueStatus } from '../queue/schemas.js'

// The bodies the API answers with, as zod schemas: `/openapi.json` documents them, and the
// API's tests parse every answer they get against them (strict objects, so a field a route
// adds without documenting it fails there).

const timestamp = z.iso.datetime({ offset: true })
const uuid = z.uuid()
const digits = z.string().regex(/^-?\d+$/)
const money = z.strictObject({ micros: digits, usd: z.string() })
/** What was metered in a group of usage (a day, an action, a tier, a key). */
const usageTotals = z.strictObject({
  calls: z.number().int(),
  quantity: z.number().int(),
  voucher: money,
  billable: money,
  total: money,
})
const role = z.enum(['owner', 'admin', 'member'])

/** The charge of a metered write (null when nothing was charged: an empty poll). */
const metered = z
  .strictObject({
    usage_id: z.string(),
    action: z.string(),
    quantity: z.number().int(),
    price_micros: digits,
    voucher_micros: digits,
    prepaid_micros: digits,
    billable_micros: digits,
    free: z.enum(['wind_down', 'session_key']).nullable(),
    rate_version: z.string(),
    replayed: z.boolean(),
  })
  .nullable()

/** A spend budget of the org or of one API key, as it stands now. */
const budget = z.strictObject({
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

const issue = z.strictObject({
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
const comment = z.strictObject({ id: uuid, body: z.string(), created_at: timestamp })
const attachment = z.strictObject({
  id: uuid,
  name: z.string(),
  content_type: z.string(),
  size_bytes: z.number(),
  url: z.string().nullable(),
  created_at: timestamp,
})
const session = {
  token: z.string(),
  org_id: uuid,
  role,
  expires_at: timestamp,
}

const endpoint = z.strictObject({
  id: uuid,
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.string()),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  previous_secret_expires_at: timestamp.nullable(),
  created_at: timestamp,
})

const emailSettings = z.strictObject({
  email: z.strictObject({
    address: z.string().nullable(),
    verified: z.boolean(),
    kinds: z.array(z.string()),
    updated_at: timestamp.nullable(),
  }),
  kinds_available: z.array(z.string()),
})

/** One answer per operation, keyed as in the operation table (`METHOD /path`). */
export const responses = {
  'GET /healthz': z.strictObject({
    status: z.enum(['ok', 'degraded']),
    database: z.record(z.string(), z.unknown()),
    chain: z.record(z.string(), z.unknown()),
    workers: z.array(
      z.strictObject({ name: z.string(), kind: z.string(), last_seen_s: z.number() }),
    ),
    notifications: z.record(z.string(), z.unknown()).nullable(),
  }),
  'GET /openapi.json': z.looseObject({
    openapi: z.string(),
    paths: z.record(z.string(), z.unknown()),
  }),
  'POST /v1/orgs': z.strictObject({
    org: z.strictObject({ id: uuid, name: z.string(), owner_address: z.string() }),
    subscription_id: z.string(),
    signup_credit: money.nullable(),
    api_key: z.string(),
    manage_url: z.url(),
  }),
  'GET /v1/auth/nonce': z.strictObject({ nonce: z.string(), expires_in: z.number().int() }),
  'POST /v1/auth/siwe': z.strictObject({ ...session, address: z.string() }),
  'GET /v1/whoami': z.strictObject({
    org_id: uuid,
    key_id: uuid.nullable(),
    role,
    address: z.string().nullable(),
  }),
  'POST /v1/session-keys': z.strictObject({
    session_key: z.string(),
    expires_at: timestamp,
    metered,
  }),
  'POST /v1/keys': z.strictObject({
    key: z.strictObject({
      id: uuid,
      prefix: z.string(),
      label: z.string().nullable(),
      created_at: timestamp,
    }),
    api_key: z.string(),
  }),
  'GET /v1/keys': z.strictObject({
    keys: z.array(
      z.strictObject({
        id: uuid,
        prefix: z.string(),
        label: z.string().nullable(),
        role,
        created_at: timestamp,
        revoked_at: timestamp.nullable(),
      }),
    ),
  }),
  'DELETE /v1/keys/{id}': z.strictObject({
    key: z.strictObject({ id: uuid, revoked_at: timestamp }),
  }),
  'POST /v1/orgs/{id}/admins': z.strictObject({ admin: z.strictObject({ address: z.string() }) }),
  'GET /v1/orgs/{id}/admins': z.strictObject({
    admins: z.array(z.strictObject({ address: z.string(), created_at: timestamp })),
  }),
  'GET /v1/budgets': z.strictObject({ budgets: z.array(budget) }),
  'POST /v1/budgets': z.strictObject({ budget }),
  'DELETE /v1/budgets/{scope}/{period}': z.strictObject({ removed: z.boolean() }),
  'POST /v1/usage': z.strictObject({ metered }),
  'POST /v1/usage/check': z.union([
    z.strictObject({
      allowed: z.literal(true),
      price_micros: digits,
      free: z.string().nullable(),
    }),
    z.strictObject({
      allowed: z.literal(false),
      code: z.enum(['BILLING_INACTIVE', 'SPEND_CAP_REACHED']),
      reason: z.string().optional(),
      price_micros: digits,
      scope: z.enum(['key', 'org', 'onchain_window']).optional(),
      period: z.enum(['day', 'week', 'month']).nullable().optional(),
      limit_micros: digits.optional(),
      spent_micros: digits.optional(),
      resets_at: z.string().nullable().optional(),
    }),
  ]),
  'GET /v1/billing': z.strictObject({
    subscription_id: z.string(),
    status: z.string(),
    status_reason: z.string().nullable(),
    signup_credit: money.nullable(),
    billing_mode: z.enum(['postpaid', 'prepaid']),
    prepaid_balance: money.nullable(),
    accrued_since_last_charge: money.nullable(),
    authorization: z.strictObject({
      billing_type: z.literal('usdc_permit'),
      owner: z.string().nullable(),
      lifetime_cap: money.nullable(),
      drawn: money.nullable(),
      remaining: money.nullable(),
      monthly_budget: money.nullable(),
      spent_this_period: money.nullable(),
      period_start: timestamp.nullable(),
      period_end: timestamp.nullable(),
      waiting_for_budget: money.nullable(),
      budget_too_low: z.boolean(),
    }),
    manage_url: z.url(),
  }),
  'GET /v1/billing/transactions': z.strictObject({
    transactions: z.array(
      z.strictObject({
        seq: z.union([z.string(), z.number()]),
        kind: z.string(),
        amount: money.nullable(),
        balances_after: z.strictObject({
          signup_credit: digits,
          prepaid: digits,
          accrued: digits,
          booked: digits,
          collected: digits,
        }),
        memo: z.unknown(),
        at: timestamp,
      }),
    ),
    next: z.string().nullable(),
  }),
  'GET /v1/events': z.strictObject({
    events: z.array(
      z.strictObject({
        seq: digits,
        id: z.string(),
        type: z.string(),
        created_at: timestamp,
        org_id: uuid.nullable(),
        subscription_id: z.string().nullable(),
        data: z.record(z.string(), z.unknown()),
      }),
    ),
    next: z.string().nullable(),
  }),
  'GET /v1/notifications/email': emailSettings,
  'POST /v1/notifications/email': emailSettings,
  'DELETE /v1/notifications/email': emailSettings,
  'POST /v1/webhooks/endpoints': z.strictObject({ endpoint, secret: z.string() }),
  'GET /v1/webhooks/endpoints': z.strictObject({ endpoints: z.array(endpoint) }),
  'PATCH /v1/webhooks/endpoints/{id}': z.strictObject({ endpoint }),
  'DELETE /v1/webhooks/endpoints/{id}': z.strictObject({ endpoint }),
  'POST /v1/webhooks/endpoints/{id}/rotate-secret': z.strictObject({
    endpoint,
    secret: z.string(),
  }),
  'GET /v1/webhooks/endpoints/{id}/deliveries': z.strictObject({
    deliveries: z.array(
      z.strictObject({
        id: digits,
        event_id: z.string(),
        type: z.string(),
        status: z.enum(['pending', 'delivered', 'failed']),
        attempts: z.number().int(),
        next_attempt_at: timestamp.nullable(),
        last_status_code: z.number().int().nullable(),
        last_error: z.string().nullable(),
        delivered_at: timestamp.nullable(),
        created_at: timestamp,
        attempts_log: z.array(
          z.strictObject({
            at: timestamp,
            status_code: z.number().int().nullable(),
            error: z.string().nullable(),
            duration_ms: z.number().int(),
          }),
        ),
      }),
    ),
  }),
  'POST /v1/webhooks/endpoints/{id}/redeliver': z.strictObject({ delivery_id: digits }),
  'GET /v1/billing/payments': z.strictObject({
    payments: z.array(
      z.strictObject({
        event: z.string(),
        subscription_id: z.string(),
        seq: z.union([z.string(), z.number()]).nullable(),
        amount: money.nullable(),
        failure_reason: z.string().nullable(),
        tx_hash: z.string(),
        block: digits,
        at: timestamp.nullable(),
        explorer_url: z.string().nullable(),
      }),
    ),
  }),
  'GET /v1/billing/usage': z.strictObject({
    period: z.strictObject({
      kind: z.enum(['7d', '30d', 'window', 'custom']),
      from: z.iso.date(),
      to: z.iso.date(),
      time_zone: z.literal('UTC'),
    }),
    window: z.strictObject({
      start: timestamp.nullable(),
      end: timestamp.nullable(),
      monthly_limit: money.nullable(),
      spent: money,
    }),
    cap: z.strictObject({
      lifetime_cap: money,
      drawn: money,
      booked: money,
      accrued: money,
      remaining: money,
    }),
    signup_credit: money,
    totals: usageTotals,
    days: z.array(z.strictObject({ day: z.iso.date(), ...usageTotals.shape })),
    by_action: z.array(
      z.strictObject({ action: z.string(), tier: z.string(), ...usageTotals.shape }),
    ),
    by_tier: z.array(z.strictObject({ tier: z.string(), ...usageTotals.shape })),
    by_key: z.array(
      z.strictObject({
        key_id: z.string().nullable(),
        prefix: z.string().nullable(),
        label: z.string().nullable(),
        ...usageTotals.shape,
      }),
    ),
  }),
  'GET /v1/billing/statements/{month}': z.strictObject({
    month: z.string(),
    total: money,
    collected: money,
    csv_url: z.string(),
    charges: z.array(
      z.strictObject({
        seq: z.number().int(),
        subscription_id: z.string(),
        window_index: z.number().int(),
        booked_at: timestamp,
        updated_at: timestamp,
        status: z.string(),
        failure_reason: z.string().nullable(),
        amount: money,
        tx_hash: z.string().nullable(),
        explorer_url: z.string().nullable(),
        lines: z.array(
          z.strictObject({
            action: z.string(),
            calls: z.number().int(),
            quantity: z.number().int(),
            amount: money,
          }),
        ),
      }),
    ),
  }),
  'POST /v1/billing/manage-link': z.strictObject({ url: z.url(), expires_in: z.number().int() }),
  'GET /v1/billing/revocation': z.strictObject({
    typed_data: z.strictObject({
      domain: z.strictObject({
        name: z.string(),
        version: z.string(),
        chainId: z.number().int(),
        verifyingContract: z.string(),
      }),
      types: z.record(z.string(), z.array(z.strictObject({ name: z.string(), type: z.string() }))),
      primaryType: z.literal('Permit'),
      message: z.strictObject({
        owner: z.string(),
        spender: z.string(),
        value: digits,
        nonce: digits,
        deadline: digits,
      }),
    }),
  }),
  'POST /v1/billing/revocation': z.strictObject({
    tx_hash: z.string(),
    explorer_url: z.string().nullable(),
    nonce: digits,
    allowance: digits,
  }),
  'GET /v1/wallet/orgs': z.strictObject({
    current: uuid,
    orgs: z.array(z.strictObject({ id: uuid, name: z.string(), role })),
  }),
  'POST /v1/wallet/switch': z.strictObject(session),
  'POST /v1/issues': z.strictObject({ issue, metered }),
  'GET /v1/issues': z.strictObject({ issues: z.array(issue), next: timestamp.nullable() }),
  'GET /v1/issues/{id}': z.strictObject({
    issue: issue.extend({
      labels: z.array(z.string()),
      comments: z.array(comment),
      relations: z.array(
        z.strictObject({ from_id: uuid, to_id: uuid, kind: z.enum(['blocks', 'relates']) }),
      ),
      attachments: z.array(attachment),
    }),
  }),
  'PATCH /v1/issues/{id}': z.strictObject({ issue, metered }),
  'POST /v1/issues/{id}/comments': z.strictObject({ comment, metered }),
  'GET /v1/issues/{id}/comments': z.strictObject({ comments: z.array(comment) }),
  'POST /v1/issues/{id}/relations': z.strictObject({
    relation: z.strictObject({ from: uuid, to: uuid, kind: z.enum(['blocks', 'relates']) }),
    metered,
  }),
  'POST /v1/issues/{id}/labels': z.strictObject({ label: z.string(), metered }),
  'DELETE /v1/issues/{id}/labels/{label}': z.strictObject({ removed: z.string(), metered }),
  'POST /v1/issues/{id}/attachments': z.strictObject({ attachment, metered }),
  'POST /v1/queue/next': z.strictObject({ issue: issue.nullable(), metered }),
  'GET /v1/queue/batch': z.strictObject({ issues: z.array(issue) }),
  'POST /v1/queue/batch': z.strictObject({ issues: z.array(issue), metered }),
  'GET /v1/queue': z.strictObject({
    queue: z.strictObject({
      open: z.number().int(),
      in_progress: z.number().int(),
      leased: z.number().int(),
      done: z.number().int(),
      ready: z.number().int(),
    }),
  }),
  'POST /v1/issues/{id}/claim': z.strictObject({ issue, metered }),
  'GET /v1/issues/{id}/claim': z.strictObject({
    claimed: z.boolean(),
    mine: z.boolean(),
    claimed_at: timestamp.nullable(),
    expires_at: timestamp.nullable(),
  }),
  'POST /v1/issues/{id}/heartbeat': z.strictObject({ issue, metered }),
  'POST /v1/issues/{id}/checkpoint': z.strictObject({ issue, metered }),
  'POST /v1/issues/{id}/release': z.strictObject({ issue, metered }),
} satisfies Record<string, z.ZodType>

/** The error envelope every 4xx and 5xx answers with; its codes are `errorCodes`'s. */
export const errorBody = z.strictObject({
  error: z.looseObject({
    code: z.enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    issues: z
      .array(z.strictObject({ path: z.array(z.string()), message: z.string(), code: z.string() }))
      .optional(),
    reason: z.string().optional(),
    subscription_id: z.string().optional(),
    reup_url: z.string().optional(),
  }),
})
