import { NotFoundError, ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { refreshLimitWaiting } from '../subscriptions/state/refreshLimitWaiting.js'
import {
  appendEntries,
  entryFor,
  lockAccount,
  type PendingEntry,
  saveAccounts,
} from './accounts.js'
import { bookCharges } from './charges.js'
import {
  IdempotencyConflictError,
  RefundExceedsChargedError,
  RefundNotChargedError,
} from './errors.js'
import { nowMicros, type Sql } from './sql.js'

export type RefundParameters = {
  /** A charge to refund (all that is left of it unless `amount` says less)... */
  chargeId?: string | undefined
  /** ...or usage lines, each refunded whole (its billable part). */
  usageIds?: readonly string[] | undefined
  /** Micro-credits, for a part of a charge; absent: what is left to refund of it. */
  amount?: bigint | undefined
  reason: string
  /** Who gives it (an operator's name, or the service that metered it). */
  actor: string
  /** Permanent per org: a retry with it returns the first outcome, never a second refund. */
  idempotencyKey: string
}

export type RefundOutcome = {
  refundId: string
  orgId: string
  chargeId: string | null
  usageIds: string[]
  amountMicros: string
  /** Taken off accrued usage and booked charges: the next pull is that much smaller. */
  nettedMicros: string
  /** What could not be netted: to pay back on-chain from the payee wallet. */
  owedOnchainMicros: string
  status: 'netted' | 'owed_onchain'
  replayed: boolean
}

type UsageLine = {
  id: bigint
  org_id: string
  billable_amount: bigint
  status: string
  charge_id: bigint | null
}

/** The org a refund is for: its charge's, or its usage lines' (one org only). */
async function targetOrg(sql: Sql, p: RefundParameters): Promise<string> {
  if (p.chargeId !== undefined) {
    const [c] = await sql<
      { org_id: string; kind: string }[]
    >`select org_id, kind from charges where id = ${p.chargeId}`
    if (!c) throw new NotFoundError(`no charge ${p.chargeId}`, { charge_id: p.chargeId })
    // A top-up bought prepaid balance, not usage: there is nothing of it to refund as usage.
    if (c.kind === 'topup')
      throw new RefundNotChargedError('a top-up is not a charge of usage', {
        charge_id: p.chargeId,
      })
    return c.org_id
  }
  // (A line's charge, once set, stays: uncharged lines are refused before anything is booked.)
  const orgs = await sql<{ org_id: string; uncharged: number }[]>`
    select org_id, count(*) filter (where charge_id is null)::int as uncharged
    from usage where id = any(${p.usageIds as string[]}::int8[]) group by org_id`
  if (orgs.length !== 1 || orgs[0]!.uncharged > 0)
    throw new RefundNotChargedError(
      'the usage lines must all exist, be of one org and be charged (void uncharged ones)',
      { usage_ids: p.usageIds },
    )
  return orgs[0]!.org_id
}

/** What a charge billed (its usage lines' billable parts) and how much of it is refunded already. */
async function chargeTotals(tx: Sql, orgId: string, chargeIds: readonly bigint[]) {
  const rows = await tx<{ charge_id: bigint; charged: bigint; refunded: bigint }[]>`
    with c as (select unnest(${chargeIds.map(String)}::int8[]) as charge_id)
    select c.charge_id,
      coalesce((select sum(u.billable_amount) from usage u
        where u.charge_id = c.charge_id and u.status in ('recorded', 'committed')), 0)::int8 as charged,
      (coalesce((select sum(r.amount) from refunds r where r.org_id = ${orgId} and r.charge_id = c.charge_id), 0)
       + coalesce((select sum(u.billable_amount) from usage u where u.charge_id = c.charge_id
           and u.id in (select unnest(r.usage_ids) from refunds r where r.org_id = ${orgId})), 0))::int8 as refunded
    from c`
  return new Map(rows.map((r) => [r.charge_id, r]))
}

function validate(p: RefundParameters) {
  if ((p.chargeId === undefined) === (p.usageIds === undefined))
    throw new ValidationError('refund a charge or usage lines, one of the two')
  if (p.chargeId !== undefined && !/^\d{1,18}$/.test(p.chargeId))
    throw new ValidationError('a charge id is a whole number', { charge_id: p.chargeId })
  if (p.usageIds !== undefined) {
    if (p.usageIds.length === 0 || p.usageIds.length > 1000)
      throw new ValidationError('between 1 and 1000 usage lines')
    if (p.usageIds.some((id) => !/^\d{1,18}$/.test(id)))
      throw new ValidationError('usage ids are whole numbers')
    if (new Set(p.usageIds).size !== p.usageIds.length)
      throw new ValidationError('a usage line is named twice')
    if (p.amount !== undefined)
      throw new ValidationError('usage lines are refunded whole: no amount')
  }
  if (p.amount !== undefined && (p.amount <= 0n || p.amount > 1_000_000_000_000_000n))
    throw new ValidationError('a refund amount is a positive number of micro-credits')
  if (!p.reason.trim() || p.reason.length > 500)
    throw new ValidationError('a refund needs a reason (at most 500 characters)')
  if (!p.actor.trim()) throw new ValidationError('a refund needs an actor')
  if (!p.idempotencyKey.trim() || p.idempotencyKey.length > 255)
    throw new ValidationError('a refund needs an idempotency key (at most 255 characters)')
}

/**
 * Refunds a charge, or usage lines that were charged, on the record: a `refunds` row (reason,
 * actor, permanent idempotency key) and append-only ledger entries with the balances after.
 * Never more than was charged, less what was refunded already (`REFUND_EXCEEDS_CHARGED`).
 * The refund nets first against the org's booked charges not in flight, newest first — its
 * accrued usage is booked for that — (`refund_booked`, each charge kept at 1 micro-credit at
 * least: the collector takes no zero pull and its seq must be used), so the next pull is
 * smaller by exactly what was netted. What cannot be netted (a canceled subscription, all collected) is
 * `owed_onchain`, paid back from the payee wallet. All under the org's lock, in one
 * transaction; a retry with the same key returns the first outcome, `replayed`.
 *
 * @example
 * await refund(db, { chargeId: '42', reason: 'job failed', actor: 'ops@alice', idempotencyKey: 'ticket-42' })
 */
export async function refund(db: Db, p: RefundParameters): Promise<RefundOutcome> {
  validate(p)
  const requestHash = JSON.stringify([
    p.chargeId ?? null,
    p.usageIds ?? null,
    p.amount?.toString() ?? null,
  ])
  const orgId = await targetOrg(db.$client, p)
  // Usage accrued so far is booked first, so the refund can net against its charge: a charge
  // carries its usage lines' sum, and the next pull is that charge (a retry books nothing new).
  const [seen] = await db.$client`
    select 1 from refunds where org_id = ${orgId} and idempotency_key = ${p.idempotencyKey}`
  if (!seen) await bookCharges(db, { orgId })
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, orgId)
    const [prior] = await tx<{ request_hash: string; outcome: RefundOutcome }[]>`
      select request_hash, outcome from refunds where org_id = ${orgId} and idempotency_key = ${p.idempotencyKey}`
    if (prior) {
      if (prior.request_hash !== requestHash) throw new IdempotencyConflictError(p.idempotencyKey)
      return { ...prior.outcome, replayed: true }
    }
    let amount: bigint
    if (p.chargeId !== undefined) {
      const t = (await chargeTotals(tx, orgId, [BigInt(p.chargeId)])).get(BigInt(p.chargeId))!
      amount = p.amount ?? t.charged - t.refunded
      if (amount <= 0n || amount > t.charged - t.refunded)
        throw new RefundExceedsChargedError({ ...t, asked: amount, chargeId: p.chargeId })
    } else {
      const lines = await tx<UsageLine[]>`
        select id, org_id, billable_amount, status, charge_id from usage
        where id = any(${p.usageIds as string[]}::int8[]) and org_id = ${orgId}`
      const bad = lines.filter(
        (u) =>
          u.charge_id === null ||
          u.billable_amount <= 0n ||
          !['recorded', 'committed'].includes(u.status),
      )
      if (lines.length !== p.usageIds!.length || bad.length > 0)
        throw new RefundNotChargedError(
          'only charged, billable usage lines of the org are refunded (void uncharged ones)',
          { usage_ids: bad.map((u) => u.id.toString()) },
        )
      const [done] = await tx<{ n: number }[]>`
        select count(*)::int as n from refunds
        where org_id = ${orgId} and usage_ids && ${p.usageIds as string[]}::int8[]`
      const byCharge = new Map<bigint, bigint>()
      for (const u of lines)
        byCharge.set(u.charge_id!, (byCharge.get(u.charge_id!) ?? 0n) + u.billable_amount)
      const totals = await chargeTotals(tx, orgId, [...byCharge.keys()])
      for (const [chargeId, asked] of byCharge) {
        const t = totals.get(chargeId)!
        if (done!.n > 0 || asked > t.charged - t.refunded)
          throw new RefundExceedsChargedError({ ...t, asked, chargeId: chargeId.toString() })
      }
      amount = [...byCharge.values()].reduce((s, v) => s + v, 0n)
    }

    // Net: accrued usage first, then booked charges not in flight (newest first).
    const at = nowMicros()
    const memo = `${p.actor}: ${p.reason}`
    const entries: PendingEntry[] = []
    let rest = amount
    const [sub] = await tx<{ state: string }[]>`
      select state from subscriptions where id = ${account.subscriptionId}`
    if (sub!.state !== 'canceled') {
      const open =
        rest === 0n
          ? []
          : await tx<{ id: bigint; amount: bigint }[]>`
            select id, amount from charges
            where subscription_id = ${account.subscriptionId} and status in ('booked', 'failed') and amount > 1
              and kind = 'usage'
            order by seq desc for update`
      for (const c of open) {
        if (rest === 0n) break
        const take = rest < c.amount - 1n ? rest : c.amount - 1n
        await tx`update charges set amount = amount - ${take.toString()}, updated_at = clock_timestamp()
          where id = ${c.id.toString()}`
        account.booked -= take
        rest -= take
        entries.push(
          entryFor(account, { kind: 'refund_booked', amount: -take, chargeId: c.id, at, memo }),
        )
      }
      if (open.length > 0)
        await refreshLimitWaiting(tx, { subscriptionIds: [account.subscriptionId] })
    }
    const [row] = await tx<{ id: bigint }[]>`
      insert into refunds (org_id, idempotency_key, request_hash, charge_id, usage_ids, amount, netted,
        owed_onchain, status, reason, actor, outcome)
      values (${orgId}, ${p.idempotencyKey}, ${requestHash}, ${p.chargeId ?? null},
        ${(p.usageIds ?? []) as string[]}::int8[], ${amount.toString()}, ${(amount - rest).toString()},
        ${rest.toString()}, ${rest > 0n ? 'owed_onchain' : 'netted'}, ${p.reason}, ${p.actor}, '{}'::jsonb)
      returning id`
    const outcome: RefundOutcome = {
      refundId: row!.id.toString(),
      orgId,
      chargeId: p.chargeId ?? null,
      usageIds: [...(p.usageIds ?? [])],
      amountMicros: amount.toString(),
      nettedMicros: (amount - rest).toString(),
      owedOnchainMicros: rest.toString(),
      status: rest > 0n ? 'owed_onchain' : 'netted',
      replayed: false,
    }
    await tx`update refunds set outcome = ${JSON.stringify(outcome)}::jsonb where id = ${row!.id.toString()}`
    // Every refund is on the ledger, a zero line when nothing could be netted.
    if (entries.length === 0)
      entries.push(entryFor(account, { kind: 'refund_owed', amount: 0n, at, memo }))
    for (const e of entries) e.memo = `refund ${outcome.refundId} ${memo}`
    await appendEntries(tx, entries)
    await saveAccounts(tx, [account])
    return outcome
  })
}
