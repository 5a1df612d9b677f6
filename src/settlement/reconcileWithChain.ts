import type { Deployment } from '../chain/deployment.js'
import type { Db } from '../db/client.js'
import { type LedgerMismatch, reconcileCharges, reconcileLedger } from '../ledger/index.js'
import { matchX402Payments } from '../x402/matchPayments.js'
import { type ChainReader, detectChainRollback } from './detectChainRollback.js'
import { matchCollectedCharges } from './matchCollectedCharges.js'
import { matchRefundPayouts } from './matchRefundPayouts.js'
import { matchSubscriptions } from './matchSubscriptions.js'
import { matchUncollectedCharges } from './matchUncollectedCharges.js'
import type { ReconcileContext, ReconcileMatcher } from './reconcileContext.js'

/** Every matcher reconcile runs, in the order its report lists them. */
const reconcileMatchers: ReconcileMatcher[] = [
  (ctx, p) => reconcileLedger(ctx.db, p),
  (ctx, p) => reconcileCharges(ctx.db, p),
  matchCollectedCharges,
  matchUncollectedCharges,
  matchSubscriptions,
  matchRefundPayouts,
  matchX402Payments,
]

export type ReconcileWithChainReturnType = LedgerMismatch[]

/**
 * Compares the ledger with the chain, one row at a time and to the micro-credit (docs/design.md,
 * Reconcile): the cached balances against the entries, each charge against its entries, each
 * collected charge against its `Collected` event and the token's `Transfer`, each subscription
 * against the collector's state for it. Read-only. A chain that went back behind the ledger is
 * reported first, as a difference of the indexer's cursor or of the latest collection.
 * Returns every difference, each naming its row; none means the books match the chain.
 *
 * Accepts a settlement context too (its operator client only reads here).
 */
export async function reconcileWithChain(
  ctx: ReconcileContext | { db: Db; operator: ChainReader; deployment: Deployment },
  p: { orgId?: string } = {},
): Promise<ReconcileWithChainReturnType> {
  const rctx: ReconcileContext =
    'client' in ctx ? ctx : { db: ctx.db, client: ctx.operator, deployment: ctx.deployment }
  const out: LedgerMismatch[] = []
  const rollback = await detectChainRollback(rctx)
  if (rollback)
    out.push({
      orgId: '',
      check: rollback.message,
      table: rollback.cursor ? 'chain_cursors' : 'charges',
      id: rollback.cursor ? String(rctx.deployment.chainId) : rollback.charge!.id,
      field: rollback.cursor ? 'block_hash' : 'tx_hash',
      expected: rollback.cursor
        ? String(rollback.cursor.chainHash ?? 'none')
        : 'no such transaction',
      actual: rollback.cursor ? rollback.cursor.ledgerHash : rollback.charge!.txHash,
      chainBehind: true,
    })
  for (const match of reconcileMatchers) out.push(...(await match(rctx, p)))
  return out
}
