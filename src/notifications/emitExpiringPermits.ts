import type { Db } from '../db/client.js'

/** How far ahead an expiring permit is told: a week, time to sign a new one. */
const WARN_SECONDS = 7 * 86_400

/**
 * Writes `permit.expiring` for each held authorization (a counterfactual owner's signed permit,
 * kept until a charge is due) whose deadline — the permit's or the terms', whichever comes
 * first — falls within the next 7 days and has not passed: once per permit (the id is derived
 * from the subscription, the permit's nonce and its deadline), however many workers and runs
 * see it. Returns how many were written.
 */
export async function emitExpiringPermits(db: Db, now: Date = new Date()): Promise<number> {
  const unix = Math.floor(now.getTime() / 1000)
  const rows = await db.$client`
    with due as (
      select h.subscription_id, h.org_id,
        least(h.permit_deadline, coalesce((h.terms->>'deadline')::numeric, h.permit_deadline))
          as deadline,
        'evt_' || md5('permit.expiring:' || h.subscription_id || ':' || h.permit_nonce::text || ':'
          || h.permit_deadline::text) as id
      from held_authorizations h
      where h.submitted_at is null and h.dropped_at is null
    )
    select tollgate_emit_event(id, org_id, subscription_id, 'permit.expiring', jsonb_build_object(
      'deadline', to_char(to_timestamp(deadline::float8) at time zone 'UTC',
        'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
      'deadline_unix', deadline::text))
    from due
    where deadline > ${unix} and deadline <= ${unix + WARN_SECONDS}
      and not exists (select from events e where e.id = due.id)`
  return rows.length
}
