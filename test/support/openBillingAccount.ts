import type { Db } from '../../src/db/client.js'
import { openBillingAccountIn } from '../../src/ledger/index.js'
import type { OpenBillingAccountParameters } from '../../src/ledger/openBillingAccount.js'

/**
 * Opens a bare org's billing in a transaction of its own: what creating an org does
 * (src/api/createOrg.ts) without the org, its owner and its first key.
 */
export const openBillingAccount = (db: Db, p: OpenBillingAccountParameters) =>
  db.$client.begin((tx) => openBillingAccountIn(tx, p))
