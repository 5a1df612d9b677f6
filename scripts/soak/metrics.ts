/** The families the operations doc lists (docs/operations.md § Metrics), as the soak checks them. */
export const metricFamilies = [
  'tollgate_meter_batch_size',
  'tollgate_meter_step_seconds',
  'tollgate_refusals_total',
  'tollgate_idempotent_replays_total',
  'tollgate_http_request_seconds',
  'tollgate_settlement_oldest_accrued_seconds',
  'tollgate_settlement_oldest_booked_seconds',
  'tollgate_settlement_batch_gas',
  'tollgate_failed_pulls',
  'tollgate_chain_block',
  'tollgate_operator_eth',
  'tollgate_outbox_backlog',
  'tollgate_outbox_oldest_seconds',
  'tollgate_db_pool_wait_seconds',
  'process_cpu_seconds_total',
  'nodejs_eventloop_lag_seconds',
]

/** The metric families (`# TYPE` lines) of every `/metrics` that answered; the others skipped. */
export async function scrapeFamilies(urls: string[]): Promise<Set<string>> {
  const families = new Set<string>()
  for (const url of urls) {
    const text = await fetch(url, { signal: AbortSignal.timeout(5000) })
      .then((r) => (r.ok ? r.text() : ''))
      .catch(() => '')
    for (const m of text.matchAll(/^# TYPE (\S+) /gm)) families.add(m[1]!)
  }
  return families
}
