import type { Db } from '../db/client.js'

/**
 * Writes `budget.reset` for every budget that had been reached and has room again with time
 * alone — nobody metered, so no transaction of the ledger's can carry it: the subscription's
 * monthly limit whose window rolled over, a spend budget (`budgets`) whose day, week or month
 * rolled over, or whose lower override ran out under a limit that leaves room. Each reset has
 * an id derived from the budget and the window (or override) it ends, so any number of workers
 * and runs write it once. Returns how many were written.
 */
export async function emitBudgetResets(db: Db, now: Date = new Date()): Promise<number> {
  const at = now.toISOString()
  return await db.$client.begin(async (tx) => {
    // The monthly limit: reached in window `spend_window` (budget.reached disarmed it), and the
    // clock is past that window's end.
    const monthly = await tx`
      with due as (
        select a.org_id, a.subscription_id, s.monthly_limit, a.spend_window,
          floor(extract(epoch from ${at}::timestamptz - s.window_start) / s.window_seconds)::int4
            as window_now,
          'evt_' || md5('budget.reset:' || a.subscription_id || ':' || a.spend_window) as id
        from billing_accounts a join subscriptions s on s.id = a.subscription_id
        where s.monthly_limit is not null and s.window_start is not null
          and a.alert_budget is null and a.spend_window_spent >= s.monthly_limit
      )
      select tollgate_emit_event(id, org_id, subscription_id, 'budget.reset', jsonb_build_object(
        'scope', 'subscription', 'period', 'month', 'cause', 'window',
        'limit_micros', monthly_limit::text, 'window_index', window_now))
      from due
      where window_now > spend_window and not exists (select from events e where e.id = due.id)`
    // Spend budgets: the window `spent` counts in is over, and it had been spent to the limit
    // in force at its end (or a refusal said it was reached); or the override (a lower limit) ran out this window, had been
    // reached, and the limit leaves room.
    const budgets = await tx`
      with b as (
        select b.*, a.subscription_id,
          date_trunc(b.period, ${at}::timestamptz at time zone 'UTC') at time zone 'UTC'
            as current_start,
          (b.window_start at time zone 'UTC' + ('1 ' || b.period)::interval) at time zone 'UTC'
            as window_end
        from budgets b left join billing_accounts a on a.org_id = b.org_id
      ), due as (
        select org_id, subscription_id, key_id, period, limit_micros, 'window' as cause,
          'evt_' || md5('budget.reset:budget:' || id || ':'
            || extract(epoch from window_start)::int8) as id
        from b
        where window_start < current_start
          and (spent >= case when override_until >= window_end then override_micros
            else limit_micros end
            -- or a refusal said budget.reached in it (see emitBudgetsReached)
            or exists (select from events r where r.id = 'evt_' || md5('budget.reached:budget:'
              || b.id || ':' || extract(epoch from b.window_start)::int8)))
        union all
        select org_id, subscription_id, key_id, period, limit_micros, 'override_expired',
          'evt_' || md5('budget.reset:budget:' || id || ':override:'
            || extract(epoch from override_until)::int8)
        from b
        where override_until <= ${at}::timestamptz and window_start = current_start
          and override_until > window_start and spent >= override_micros and spent < limit_micros
      )
      select tollgate_emit_event(id, org_id, subscription_id, 'budget.reset', jsonb_build_object(
        'scope', case when key_id is null then 'org' else 'key' end, 'key_id', key_id,
        'period', period, 'cause', cause, 'limit_micros', limit_micros::text))
      from due where not exists (select from events e where e.id = due.id)`
    return monthly.length + budgets.length
  })
}
