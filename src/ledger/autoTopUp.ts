import { ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'

/** An org's auto top-up: below `threshold` (micro-credits), pull `amount`. */
export type AutoTopUp = { threshold: bigint; amount: bigint; updatedBy: string | null }

/**
 * Sets (or replaces) an org's auto top-up: when its prepaid balance falls below `threshold`,
 * settlement books a top-up of `amount` — one at a time (see `requestTopUp`).
 *
 * @example
 * await setAutoTopUp(db, { orgId, threshold: 5_000_000n, amount: 20_000_000n, by: 'cli' })
 */
export async function setAutoTopUp(
  db: Db,
  p: { orgId: string; threshold: bigint; amount: bigint; by: string },
): Promise<AutoTopUp> {
  if (p.amount <= 0n) throw new ValidationError('the auto top-up amount must be more than zero')
  if (p.threshold < 0n) throw new ValidationError('the auto top-up threshold cannot be negative')
  await db.$client`
    insert into auto_top_ups (org_id, threshold, amount, updated_by)
    values (${p.orgId}, ${p.threshold.toString()}, ${p.amount.toString()}, ${p.by})
    on conflict (org_id) do update set threshold = excluded.threshold, amount = excluded.amount,
      updated_by = excluded.updated_by, updated_at = clock_timestamp()`
  return { threshold: p.threshold, amount: p.amount, updatedBy: p.by }
}

/** Turns an org's auto top-up off. Returns whether it was on. */
export async function clearAutoTopUp(db: Db, p: { orgId: string }): Promise<boolean> {
  const rows = await db.$client`delete from auto_top_ups where org_id = ${p.orgId} returning org_id`
  return rows.length > 0
}

/** An org's auto top-up, or null when it is off. */
export async function readAutoTopUp(db: Db, p: { orgId: string }): Promise<AutoTopUp | null> {
  const [row] = await db.$client<
    { threshold: bigint; amount: bigint; updated_by: string | null }[]
  >`
    select threshold, amount, updated_by from auto_top_ups where org_id = ${p.orgId}`
  return row
    ? { threshold: BigInt(row.threshold), amount: BigInt(row.amount), updatedBy: row.updated_by }
    : null
}

/**
 * Orgs whose auto top-up is due: prepaid, an active permit, the balance (what reservations
 * leave) below the threshold, and no top-up open. Read without locks; `requestTopUp` decides
 * again under the account's lock.
 */
export async function listDueAutoTopUps(
  db: Db,
  p: { orgIds?: string[] | undefined } = {},
): Promise<Array<{ orgId: string; threshold: bigint; amount: bigint }>> {
  const rows = await db.$client<{ org_id: string; threshold: bigint; amount: bigint }[]>`
    select a.org_id, t.threshold, t.amount from auto_top_ups t
    join billing_accounts a on a.org_id = t.org_id
    join subscriptions s on s.id = a.subscription_id
    where a.billing_mode = 'prepaid' and s.state = 'active'
      and a.prepaid - a.reserved_prepaid < t.threshold
      and not exists (select 1 from charges c where c.org_id = a.org_id and c.kind = 'topup'
                      and c.status in ('booked', 'submitted', 'failed'))
      and (${p.orgIds ?? null}::uuid[] is null or a.org_id = any(${p.orgIds ?? null}::uuid[]))
    order by a.org_id`
  return rows.map((r) => ({
    orgId: r.org_id,
    threshold: BigInt(r.threshold),
    amount: BigInt(r.amount),
  }))
}
