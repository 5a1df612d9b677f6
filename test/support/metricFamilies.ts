/**
 * Tollgate's own metric families, as docs/operations.md § Metrics lists them: what the metrics
 * e2e test and the chaos soak expect each `/metrics` scrape (api and worker together) to show.
 */
export const tollgateMetricFamilies = [
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
  'tollgate_db_pool_wait_seconds',
  'tollgate_outbox_backlog',
  'tollgate_outbox_oldest_seconds',
] as const
