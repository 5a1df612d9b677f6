import type { Db } from '../db/client.js'
import { lockAccount, saveAccounts } from './accounts.js'

export type LowerAllowanceResult =
  | { lowered: false }
  | { lowered: true; allowance: bigint; owed: bigint }

/**
 * The owner lowered the token allowance on-chain (an `approve` for less, not to 0): the gate
 * must never promise more headroom than the chain lets the collector pull. Sets the
 * subscription's allowance to `chainAllowance` — only if the row still holds `expected` (what
 * the caller compared against) and no pull of this subscription is in flight, in the same
 * transaction that locks the account, so a collection applied meanwhile is never counted
 * twice. Never raises the allowance (a raise comes with the owner's signed permit).
 * `owed` is what is booked, accrued or reserved and not yet pulled.
 */
export async function lowerAllowance(
  db: Db,
  p: { orgId: string; subscriptionId: string; expected: bigint; chainAllowance: bigint },
): Promise<LowerAllowanceResult> {
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, p.orgId)
    if (account.subscriptionId !== p.subscriptionId) return { lowered: false }
    if (account.allowance !== p.expected || p.chainAllowance >= account.allowance)
      return { lowered: false }
    const [inFlight] = await tx<{ n: number }[]>`
      select count(*)::int as n from charges
      where subscription_id = ${p.subscriptionId} and status = 'submitted'`
    if (inFlight!.n > 0) return { lowered: false }
    account.allowance = p.chainAllowance
    account.dirty = true
    await saveAccounts(tx, [account])
    return {
      lowered: true,
      allowance: account.allowance,
      owed: account.booked + account.accrued + account.reserved,
    }
  })
}
