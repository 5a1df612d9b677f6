import type { Db } from '../../src/db/client.js'
import { setPlan } from '../../src/ledger/index.js'
import type { startApi } from '../api/server.js'
import { expect } from '../fixtures.js'

/**
 * Gives an org a plan of $1.00 included a month and has it use $0.40 of it (80 comments at
 * $0.005, before anything else when it has no signup credit). Returns the line every surface
 * shows for it: "$0.40 of $1.00 used, renews 1 <next month>".
 *
 * @example
 * const line = await planUsed(db, api, { orgId: org.org.id, key: org.api_key })
 */
export async function planUsed(
  db: Db,
  api: Pick<Awaited<ReturnType<typeof startApi>>, 'call'>,
  p: { orgId: string; key: string },
): Promise<string> {
  await setPlan(db, { orgId: p.orgId, includedMonthlyMicros: 1_000_000n })
  const used = await api.call('POST', '/v1/usage', {
    key: p.key,
    body: { action: 'save_comment', quantity: 80 },
  })
  expect(used.status, used.text).toBe(201)
  const now = new Date()
  const renews = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))
  return `$0.40 of $1.00 used, renews 1 ${renews.toLocaleString('en', { month: 'short', timeZone: 'UTC' })}`
}
