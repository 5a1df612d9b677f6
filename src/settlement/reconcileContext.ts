import type { Deployment } from '../chain/deployment.js'
import type { Db } from '../db/client.js'
import type { LedgerMismatch } from '../ledger/index.js'
import type { ChainReader } from './detectChainRollback.js'

/** What reconcile reads: the database and the chain, with no key — it sends nothing. */
export type ReconcileContext = { db: Db; client: ChainReader; deployment: Deployment }

/** One family of rows compared with what must equal them; refunds and top-ups add one each. */
export type ReconcileMatcher = (
  ctx: ReconcileContext,
  p: { orgId?: string },
) => Promise<LedgerMismatch[]>
