import type { Db } from '../../src/db/client.js'
import { settleOnce } from '../../src/settlement/settleOnce.js'
import type { startApi } from '../api/server.js'
import type { TestChain } from '../fixtures.js'
import { settlementContext } from '../settlement/helpers.js'

export type MeterThenSettleParameters = {
  orgId: string
  /** The org's API key, which meters. */
  key: string
  /** How many `claim_issue` calls to meter through `POST /v1/usage`. */
  calls: number
}

/**
 * Agents' work, then the worker's pull: meters `calls` claim_issue over the API, then settles
 * the org once at a threshold of one micro-credit; returns the settlement context and report.
 *
 * @example
 * const { ctx, report } = await meterThenSettle(db, chain, api, { orgId, key, calls: 436 })
 * expect(report.collected).toBe(1)
 */
export async function meterThenSettle(
  db: Db,
  chain: TestChain,
  api: Pick<Awaited<ReturnType<typeof startApi>>, 'call'>,
  p: MeterThenSettleParameters,
) {
  for (let i = 0; i < p.calls; i++)
    await api.call('POST', '/v1/usage', { key: p.key, body: { action: 'claim_issue' } })
  const ctx = settlementContext(db, chain, { thresholdMicros: 1n })
  const report = await settleOnce(ctx, { orgIds: [p.orgId] })
  return { ctx, report }
}
