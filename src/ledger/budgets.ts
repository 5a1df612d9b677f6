import { ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { lockAccount } from './accounts.js'
import {
  type Budget,
  type BudgetPeriod,
  budgetLimitAt,
  budgetSpentAt,
  budgetWindowEnd,
  budgetWindowStart,
  type Micros,
} from './decide.js'
import { arrayParams, type Column, microsOf, nowMicros, type Sql, toTimestamp } from './sql.js'

export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'week', 'month']

/** Most a budget may be: $1,000,000,000 in micro-credits (well inside int8). */
const MAX_MICROS = 1_000_000_000_000_000n

type BudgetRow = {
  id: bigint
  org_id: string
  key_id: string | null
  period: BudgetPeriod
  limit_micros: bigint
  override_micros: bigint | null
  override_until: bigint | null
  window_start: bigint
  spent: bigint
}

const budgetOf = (r: BudgetRow): Budget => ({
  id: r.id,
  keyId: r.key_id,
  period: r.period,
  limit: r.limit_micros,
  override: r.override_micros,
  overrideUntil: r.override_until,
  windowStart: r.window_start,
  spent: r.spent,
})

/**
 * The budgets of `orgIds` (their own and their keys'), by org. Read by key (`budgets_scope_idx`)
 * under the orgs' locks, which every writer of a budget holds. Returned unsent when `sql` is a
 * transaction's connection, so the meter pipelines it behind its locks.
 */
export const readBudgets = (sql: Sql, orgIds: readonly string[]) =>
  sql.unsafe<BudgetRow[]>(
    `/* budgets */ select id, org_id, key_id, period, limit_micros, override_micros,
       ${microsOf('override_until')} as override_until, ${microsOf('window_start')} as window_start, spent
     from budgets where org_id = any($1::uuid[]) order by org_id, id`,
    arrayParams([orgIds]),
    { prepare: true },
  )

/** `readBudgets`' rows by org. */
export function budgetsByOrg(rows: readonly BudgetRow[]): Map<string, Budget[]> {
  const out = new Map<string, Budget[]>()
  for (const r of rows) {
    const list = out.get(r.org_id) ?? []
    if (list.length === 0) out.set(r.org_id, list)
    list.push(budgetOf(r))
  }
  return out
}

/** The budget columns a batch's write updates, in order (their `spent` and its window). */
export const BUDGET_FIELDS: ReadonlyArray<Column<Budget>> = [
  ['id', 'int8', (b) => b.id],
  ['window_start', 'timestamptz', (b) => toTimestamp(b.windowStart)],
  ['spent', 'int8', (b) => b.spent],
]

/** The update of `BUDGET_FIELDS`' rows at parameters `$first`... */
export const updateBudgets = (first: number) =>
  `update budgets b set window_start = v.window_start, spent = v.spent
     from (select unnest($${first}::int8[]) as id, unnest($${first + 1}::timestamptz[]) as window_start,
       unnest($${first + 2}::int8[]) as spent) as v
     where b.id = v.id and b.id = any($${first}::int8[])`

/** Writes back the budgets a movement changed (outside the meter: commits, voids). */
export async function saveBudgets(sql: Sql, budgets: readonly Budget[] | undefined) {
  const dirty = budgets?.filter((b) => b.dirty) ?? []
  if (dirty.length === 0) return
  await sql.unsafe(updateBudgets(1), arrayParams(BUDGET_FIELDS.map(([, , v]) => dirty.map(v))), {
    prepare: true,
  })
}

/** Reads one org's budgets into its locked account (the caller holds the org's lock). */
export async function lockBudgets(sql: Sql, orgId: string): Promise<Budget[]> {
  return budgetsByOrg(await readBudgets(sql, [orgId])).get(orgId) ?? []
}

/**
 * Makes every cached copy of the org's account stale (its row version changes): a meter
 * that decided on it before this budget changed decides again on locked rows.
 */
const touchAccount = (tx: Sql, orgId: string) =>
  tx`update billing_accounts set updated_at = clock_timestamp() where org_id = ${orgId}`

export type SetBudgetParameters = {
  orgId: string
  /** The API key (agent) it is for; null or absent: the whole org. */
  keyId?: string | null | undefined
  period: BudgetPeriod
  limitMicros: bigint
  /**
   * A temporary limit until `until`, after which `limitMicros` is back by itself; null clears
   * an override, absent keeps the one there is.
   */
  override?: { limitMicros: bigint; until: Date } | null | undefined
  /** Who sets it, for the record. */
  by: string
  /** The clock, microseconds since the epoch. */
  now?: Micros
}

/** What `showBudgets` shows of one budget at a time. */
export type BudgetView = {
  keyId: string | null
  period: BudgetPeriod
  limitMicros: bigint
  override: { limitMicros: bigint; until: Date } | null
  /** The limit now: the override while it lasts. */
  effectiveMicros: bigint
  spentMicros: bigint
  remainingMicros: bigint
  windowStart: Date
  resetsAt: Date
}

const dateOf = (m: Micros) => new Date(Number(m / 1000n))

function viewOf(b: Budget, now: Micros): BudgetView {
  const effective = budgetLimitAt(b, now)
  const spent = budgetSpentAt(b, now)
  const start = budgetWindowStart(b.period, now)
  const live = b.override !== null && b.overrideUntil !== null && now < b.overrideUntil
  return {
    keyId: b.keyId,
    period: b.period,
    limitMicros: b.limit,
    override: live ? { limitMicros: b.override!, until: dateOf(b.overrideUntil!) } : null,
    effectiveMicros: effective,
    spentMicros: spent,
    remainingMicros: effective > spent ? effective - spent : 0n,
    windowStart: dateOf(start),
    resetsAt: dateOf(budgetWindowEnd(b.period, start)),
  }
}

function checkMicros(name: string, v: bigint) {
  if (v < 0n || v > MAX_MICROS)
    throw new ValidationError(`${name} must be between 0 and ${MAX_MICROS} micro-credits`)
}

/**
 * Sets (or replaces) a budget on an API key or on the org, under the org's lock: from then on
 * the meter refuses, in the same step as it records, any action that would take it past its
 * limit. A new budget counts what was already metered in its current window (the usage rows
 * of its key, or of the org), so setting one mid-day holds the day to it.
 *
 * @example
 * await setBudget(db, { orgId, keyId, period: 'day', limitMicros: 3_000_000n, by: 'cli' })
 */
export async function setBudget(db: Db, p: SetBudgetParameters): Promise<BudgetView> {
  if (!BUDGET_PERIODS.includes(p.period))
    throw new ValidationError(`period must be one of ${BUDGET_PERIODS.join(', ')}`)
  checkMicros('limit', p.limitMicros)
  const now = p.now ?? nowMicros()
  if (p.override) {
    checkMicros('override', p.override.limitMicros)
    if (!Number.isFinite(p.override.until.getTime()))
      throw new ValidationError('an override’s end is not a time')
    if (BigInt(p.override.until.getTime()) * 1000n <= now)
      throw new ValidationError('an override must end in the future')
  }
  const keyId = p.keyId ?? null
  return await db.$client.begin(async (tx) => {
    await lockAccount(tx, p.orgId)
    if (keyId !== null) {
      const [key] = await tx`select 1 from api_keys where id = ${keyId} and org_id = ${p.orgId}`
      if (!key) throw new ValidationError('no such API key in this org', { key_id: keyId })
    }
    const start = budgetWindowStart(p.period, now)
    // What the window already holds, for a budget set for the first time.
    const [used] = await tx<{ spent: bigint }[]>`
      select coalesce(sum(voucher_amount + included_amount + prepaid_amount + billable_amount), 0)::int8 as spent from usage
      where org_id = ${p.orgId} and (${keyId}::uuid is null or key_id = ${keyId}::uuid)
        and created_at >= ${toTimestamp(start)}::timestamptz
        and status in ('recorded', 'reserved', 'committed')`
    const keep = p.override === undefined
    const o = p.override ?? null
    await tx`
      insert into budgets (org_id, key_id, period, limit_micros, override_micros, override_until,
        window_start, spent, updated_at, updated_by)
      values (${p.orgId}, ${keyId}, ${p.period}, ${p.limitMicros.toString()},
        ${o ? o.limitMicros.toString() : null}, ${o ? o.until.toISOString() : null},
        ${toTimestamp(start)}, ${used!.spent.toString()}, clock_timestamp(), ${p.by})
      on conflict (org_id, coalesce(key_id, '00000000-0000-0000-0000-000000000000'::uuid), period)
      do update set limit_micros = excluded.limit_micros,
        override_micros = case when ${keep} then budgets.override_micros else excluded.override_micros end,
        override_until = case when ${keep} then budgets.override_until else excluded.override_until end,
        updated_at = excluded.updated_at, updated_by = excluded.updated_by`
    await touchAccount(tx, p.orgId)
    const b = (await lockBudgets(tx, p.orgId)).find(
      (x) => x.keyId === keyId && x.period === p.period,
    )!
    return viewOf(b, now)
  })
}

/** Removes a budget (the key's or the org's, for one period); true when there was one. */
export async function clearBudget(
  db: Db,
  p: { orgId: string; keyId?: string | null | undefined; period: BudgetPeriod },
): Promise<boolean> {
  return await db.$client.begin(async (tx) => {
    await lockAccount(tx, p.orgId)
    const gone = await tx`
      delete from budgets where org_id = ${p.orgId} and period = ${p.period}
        and coalesce(key_id, '00000000-0000-0000-0000-000000000000'::uuid)
          = coalesce(${p.keyId ?? null}::uuid, '00000000-0000-0000-0000-000000000000'::uuid)`
    if (gone.count > 0) await touchAccount(tx, p.orgId)
    return gone.count > 0
  })
}

/**
 * An org's budgets as they stand at `now`: the limit in force (an override while it lasts),
 * what the current window spent and when it resets. The org's first, then by key.
 */
export async function showBudgets(
  db: Db,
  p: { orgId: string; now?: Micros },
): Promise<BudgetView[]> {
  const now = p.now ?? nowMicros()
  const list = (await lockBudgets(db.$client, p.orgId)).map((b) => viewOf(b, now))
  const order = (v: BudgetView) => `${v.keyId ?? ''}:${BUDGET_PERIODS.indexOf(v.period)}`
  return list.sort((x, y) => (order(x) < order(y) ? -1 : 1))
}
