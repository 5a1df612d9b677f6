import { arrayParams, type Sql } from '../sql.js'
import type { Engine } from './engine.js'
import type { BudgetReached, Decided } from './types.js'

/**
 * Writes `budget.reached` for spend budgets (a key's, the org's) that refused a call: once per
 * budget and window, whatever the number of callers refused, for its id is derived from the
 * budget and the window's start (in seconds, as `budget.reset`'s is). The `budgets` row does
 * not change when a call is refused, so no trigger can see it: the meter writes it, in the
 * transaction that decided the refusal.
 */
export const emitBudgetsReached = (sql: Sql, reached: readonly BudgetReached[]) =>
  sql.unsafe(
    `/* budgets reached */ select tollgate_emit_event(
       'evt_' || md5('budget.reached:budget:' || r.id || ':' || r.start / 1000000), r.org_id, r.sub,
       'budget.reached', jsonb_build_object(
         'scope', case when r.key_id is null then 'org' else 'key' end, 'key_id', r.key_id,
         'period', r.period, 'limit_micros', r.lim::text, 'spent_micros', r.spent::text))
     from (select distinct on (id) * from unnest($1::int8[], $2::uuid[], $3::text[], $4::uuid[],
       $5::text[], $6::int8[], $7::int8[], $8::int8[])
       as u(id, org_id, sub, key_id, period, start, lim, spent) order by id) r`,
    arrayParams([
      reached.map((r) => r.budgetId),
      reached.map((r) => r.orgId),
      reached.map((r) => r.subscriptionId),
      reached.map((r) => r.keyId),
      reached.map((r) => r.period),
      reached.map((r) => r.windowStart),
      reached.map((r) => r.limit),
      reached.map((r) => r.spent),
    ]),
    { prepare: true },
  )

/**
 * Moves a refused budget's row into the window its refusal was decided in, when the row still
 * holds an older one (the window rolled over and nothing was counted in it yet): `spent` 0 in
 * the new window. Then the window `budget.reached` is written for is the row's, and its
 * `budget.reset` follows when that window ends (the budgets trigger, `emitBudgetResets`), once.
 * Sent before `emitBudgetsReached`, so a reset of the older window (the trigger) comes first.
 */
export const rollReachedBudgets = (sql: Sql, reached: readonly BudgetReached[]) =>
  sql.unsafe(
    `/* budgets rolled */ update budgets b set window_start = to_timestamp(r.start / 1000000), spent = 0
     from (select id, max(start) as start from unnest($1::int8[], $2::int8[]) as u(id, start)
       group by id) r
     where b.id = r.id and b.window_start < to_timestamp(r.start / 1000000)`,
    arrayParams([reached.map((r) => r.budgetId), reached.map((r) => r.windowStart)]),
    { prepare: true },
  )

/** The key `Engine.reachedSaid` remembers a budget's window by. */
export const reachedKey = (r: BudgetReached) => `${r.budgetId}:${r.windowStart}`

/** Remembers the windows a committed batch wrote `budget.reached` for (a bounded memory). */
export function rememberReached(engine: Engine, decided: Decided) {
  if (decided.reached.length === 0) return
  if (engine.reachedSaid.size > 10_000) engine.reachedSaid.clear()
  for (const r of decided.reached) engine.reachedSaid.add(reachedKey(r))
}
