import {
  accountParams,
  entryFor,
  entryParams,
  type LockedAccount,
  type PendingEntry,
  rewindBalances,
} from '../accounts.js'
import { BUDGET_FIELDS } from '../budgets.js'
import { columnParams, toTimestamp } from '../sql.js'
import { USAGE_FIELDS } from './batchSql.js'
import type { NewUsage } from './types.js'

/**
 * The parameters of `writeBatch` for a decided batch's new usage and changed accounts (each
 * account's row versions too, when `fresh`).
 */
export function writeParams(
  newUsage: NewUsage[],
  accounts: Map<string, LockedAccount>,
  dirty: LockedAccount[],
  now: bigint,
  { fresh }: { fresh: boolean },
) {
  const entries: PendingEntry[] = []
  for (const u of newUsage)
    for (const e of u.entries) entries.push(entryFor(u.account, { ...e, usageId: u.id }))
  fixBalancesAfter(entries, accounts)
  const budgets = []
  for (const a of accounts.values()) for (const b of a.budgets ?? []) if (b.dirty) budgets.push(b)
  return [
    ...columnParams(USAGE_FIELDS, newUsage),
    toTimestamp(now) as never,
    ...entryParams(entries),
    ...columnParams(BUDGET_FIELDS, budgets),
    ...accountParams(dirty, { versions: fresh }),
  ]
}

/**
 * Entries were built after all of the batch's movements were applied to the accounts, so
 * their "after" balances all show the final totals. Rewind per org, newest first, so each
 * entry carries the balances right after its own movement.
 */
function fixBalancesAfter(entries: PendingEntry[], accounts: Map<string, LockedAccount>) {
  const byOrg = new Map<string, PendingEntry[]>()
  for (const e of entries) {
    if (!byOrg.has(e.orgId)) byOrg.set(e.orgId, [])
    byOrg.get(e.orgId)!.push(e)
  }
  for (const [orgId, list] of byOrg) rewindBalances(list, accounts.get(orgId)!)
}
