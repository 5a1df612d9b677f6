import type { Db } from '../db/client.js'
import { failureReasons } from './context.js'

export type SettlementGauges = {
  /** Seconds since the oldest usage not yet booked into a charge was recorded (0: none). */
  oldestAccruedSeconds: number
  /** Seconds since the oldest charge booked or sent but not yet collected was booked (0: none). */
  oldestBookedSeconds: number
  /** Gas of the last confirmed batch, and the mean and most over the last hour's. */
  batchGas: { last: number; meanHour: number; maxHour: number } | undefined
  /** Pulls the collector refused on `chainId`, by its reason (the collector's fixed list). */
  failedPulls: Array<{ reason: string; count: number }>
  /** The last block the indexer read on `chainId`, if it has read any. */
  indexedBlock: number | undefined
}

/**
 * What settlement's metrics report, read in one round trip: how far behind collection is,
 * what batches cost, why pulls failed, how far the indexer has read. Aggregates over all orgs.
 */
export async function readSettlementGauges(db: Db, chainId: number): Promise<SettlementGauges> {
  const [row] = await db.$client<
    {
      accrued: number | null
      booked: number | null
      last_gas: string | null
      mean_gas: number | null
      max_gas: string | null
      failed: Array<{ reason: string; count: number }> | null
      indexed: string | null
    }[]
  >`
    select
      (select extract(epoch from now() - min(accrued_since))::float8 from billing_accounts
        where accrued > 0) as accrued,
      (select extract(epoch from now() - min(created_at))::float8 from charges
        where status in ('booked', 'submitted')) as booked,
      (select gas_used from settlement_batches where gas_used is not null
        order by id desc limit 1) as last_gas,
      (select avg(gas_used)::float8 from settlement_batches
        where gas_used is not null and updated_at > now() - interval '1 hour') as mean_gas,
      (select max(gas_used) from settlement_batches
        where gas_used is not null and updated_at > now() - interval '1 hour') as max_gas,
      (select json_agg(json_build_object('reason', reason, 'count', n)) from (
        select failure_reason as reason, count(*)::int as n from payment_history
        where chain_id = ${chainId} and event = 'ChargeFailed' group by failure_reason) f) as failed,
      (select block_number from chain_cursors where chain_id = ${chainId}) as indexed`
  const known = new Set<string>(failureReasons)
  const failed = new Map<string, number>()
  for (const { reason, count } of row?.failed ?? []) {
    // The collector's reasons are a fixed list; anything else is counted as `other`.
    const r = known.has(reason) ? reason : 'other'
    failed.set(r, (failed.get(r) ?? 0) + count)
  }
  return {
    oldestAccruedSeconds: Math.max(0, row?.accrued ?? 0),
    oldestBookedSeconds: Math.max(0, row?.booked ?? 0),
    batchGas:
      row?.last_gas == null
        ? undefined
        : {
            last: Number(row.last_gas),
            meanHour: row.mean_gas ?? 0,
            maxHour: Number(row.max_gas ?? 0),
          },
    failedPulls: [...failed].map(([reason, count]) => ({ reason, count })),
    indexedBlock: row?.indexed == null ? undefined : Number(row.indexed),
  }
}
