import { createHash } from 'node:crypto'
import { arrayParams, type Sql, zipArrays } from '../sql.js'
import type { Item, MeterOutcome, MeterParameters, StoredOutcome } from './types.js'

/** What a keyed call's retry must match: the call's operation, action, quantity and lease. */
export const hashRequest = (p: MeterParameters, op: string) =>
  createHash('sha256')
    .update(JSON.stringify([op, p.action, p.quantity ?? 1, p.leaseClaimedAt?.getTime() ?? null]))
    .digest('base64url')

/**
 * The stored idempotency keys of the keyed items of a batch (`keyed`), read on `tx`, with the
 * usage row of each whose outcome that holds. Returned unsent (a postgres.js query runs once
 * awaited), so the caller pipelines it behind the batch's locks in the order it awaits them.
 */
export const readStoredKeys = (tx: Sql, keyed: Item[]) =>
  keyed.length === 0
    ? Promise.resolve([])
    : tx.unsafe<StoredKeyRow[]>(
        // One primary-key lookup per key (`limit 1` keeps the lateral subquery from becoming a
        // join, which a plan cached while the table was small does as a scan of all of it),
        // and one of its usage row when that holds the outcome.
        `select k.org_id, k.key, k.request_hash, k.outcome, u.id as usage_id, u.subscription_id, u.action,
             u.quantity, u.unit_price, u.voucher_amount, u.included_amount, u.included_units, u.prepaid_amount, u.billable_amount, u.rate_version, u.window_index,
             u.free_reason
           from (${zipArrays(1, [
             ['org_id', 'uuid'],
             ['key', 'text'],
           ])}) as q
           cross join lateral (select * from idempotency_keys k where k.org_id = q.org_id and k.key = q.key limit 1) k
           left join lateral (select * from usage u where u.id = k.usage_id and k.outcome is null limit 1) u on true`,
        arrayParams([keyed.map((i) => i.p.orgId), keyed.map((i) => i.p.idempotencyKey!)]),
        { prepare: true },
      )

/** Each stored key's first outcome, by `org id NUL key`. */
export function storedOutcomes(rows: readonly StoredKeyRow[]): Map<string, StoredOutcome> {
  const stored = new Map<string, StoredOutcome>()
  for (const r of rows)
    stored.set(`${r.org_id}\u0000${r.key}`, {
      hash: r.request_hash,
      outcome: r.outcome ?? outcomeOfUsage(r),
    })
  return stored
}

/** A stored idempotency key, with the usage row it recorded when that holds its outcome. */
type StoredKeyRow = {
  org_id: string
  key: string
  request_hash: string
  outcome: MeterOutcome | null
  usage_id: bigint | null
  subscription_id: string | null
  action: string | null
  quantity: number | null
  unit_price: bigint | null
  voucher_amount: bigint | null
  included_amount: bigint | null
  included_units: number | null
  prepaid_amount: bigint | null
  billable_amount: bigint | null
  rate_version: string | null
  window_index: number | null
  free_reason: MeterOutcome['free']
}

/** A metered action's first outcome, from its usage row (which keeps every part of it). */
function outcomeOfUsage(r: StoredKeyRow): MeterOutcome {
  if (r.usage_id === null) throw new Error(`idempotency key ${r.key} has neither outcome nor usage`)
  return {
    usageId: r.usage_id.toString(),
    orgId: r.org_id,
    subscriptionId: r.subscription_id!,
    action: r.action!,
    quantity: r.quantity!,
    unitPriceMicros: r.unit_price!.toString(),
    priceMicros: (
      r.voucher_amount! +
      r.included_amount! +
      r.prepaid_amount! +
      r.billable_amount!
    ).toString(),
    voucherMicros: r.voucher_amount!.toString(),
    includedMicros: r.included_amount!.toString(),
    ...(r.included_units ? { includedUnits: r.included_units } : {}),
    prepaidMicros: r.prepaid_amount!.toString(),
    billableMicros: r.billable_amount!.toString(),
    free: r.free_reason,
    rateVersion: r.rate_version!,
    windowIndex: r.window_index,
    status: 'recorded',
    replayed: false,
  }
}
