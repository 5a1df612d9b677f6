import type { Db } from '../db/client.js'
import { lockAccount } from './accounts.js'
import type { BillingMode } from './decide.js'

export type SetBillingModeParameters = {
  orgId: string
  mode: BillingMode
}

export type SetBillingModeReturnType = {
  mode: BillingMode
  /** The mode before (the same when nothing changed). */
  previous: BillingMode
}

/**
 * Sets how an org pays (the owner's choice): `prepaid` — usage draws the voucher, then the
 * prepaid balance, and what they do not cover is refused `no_credit`, never billed — or
 * `postpaid`, the default. Usage already accrued is settled as before either way. Takes the
 * account's lock, so no metering batch decides half under each mode.
 */
export async function setBillingMode(
  db: Db,
  p: SetBillingModeParameters,
): Promise<SetBillingModeReturnType> {
  return await db.$client.begin(async (tx) => {
    const account = await lockAccount(tx, p.orgId)
    if (account.mode !== p.mode)
      await tx`update billing_accounts set billing_mode = ${p.mode}, updated_at = clock_timestamp()
        where org_id = ${p.orgId}`
    return { mode: p.mode, previous: account.mode }
  })
}
