import { transitionSubscription } from '../../subscriptions/state/transitionSubscription.js'
import { type LockedAccount, lockAccounts, movedAllowances, saveAccounts } from '../accounts.js'
import { budgetsByOrg, readBudgets } from '../budgets.js'
import type { Sql } from '../sql.js'
import { WRITE_BATCH } from './batchSql.js'
import { emitBudgetsReached, rollReachedBudgets } from './budgetsReached.js'
import { decideBatch } from './decideBatch.js'
import type { Engine } from './engine.js'
import { findUsage } from './inDoubt.js'
import { readStoredKeys, storedOutcomes } from './replay.js'
import type { Decided, InDoubt, Item } from './types.js'
import { assignIds } from './usageIds.js'
import { writeParams } from './writeParams.js'

/** A batch decided on locked rows, its writes sent and not yet awaited. */
export type MeterBatchReturnType =
  | 'committed'
  | {
      accounts: Map<string, LockedAccount>
      decided: Decided
      writes: Promise<unknown>[]
      /** The transaction's id once the usage write is done (the version of every row it updated). */
      version: () => string | undefined
    }

/**
 * Decides one batch on `tx`, a connection whose BEGIN (`begin`) is in flight, on the accounts
 * it locks. Returns the locked accounts (as the batch leaves them), what was decided, each
 * item's outcome or error, and the batch's writes, already sent and not yet awaited: the caller
 * pipelines COMMIT behind them and acknowledges nothing until it has succeeded. A batch in
 * doubt (`inDoubt`) found committed returns `'committed'`.
 */
export async function meterBatch(
  engine: Engine,
  tx: Sql,
  batch: Item[],
  begin: Promise<unknown>,
  /** A batch in doubt: its usage ids are looked up once its orgs are locked. */
  inDoubt?: InDoubt,
): Promise<MeterBatchReturnType> {
  const orgIds = [...new Set(batch.map((i) => i.p.orgId))].sort()
  // Round trip 1, pipelined on the transaction's connection: lock the orgs (in org-id order),
  // then — in a statement that starts after the lock is held, so it sees everything the
  // previous holder committed — read the idempotency keys.
  const keyed = batch.filter((i) => i.p.idempotencyKey !== undefined)
  const doubtful = inDoubt ? [...inDoubt.ids.values()] : []
  const [, accounts, found, storedRows, budgetRows] = await Promise.all([
    begin,
    // Its own prepared statement: its generic plan is made under this transaction's settings.
    lockAccounts(tx, orgIds, { tag: 'meter' }),
    doubtful.length === 0 ? Promise.resolve([]) : findUsage(tx, doubtful),
    readStoredKeys(tx, keyed),
    // The orgs' budgets, read once their locks are held (every writer of a budget holds it).
    readBudgets(tx, orgIds),
  ])
  const budgets = budgetsByOrg(budgetRows)
  for (const a of accounts.values()) a.budgets = budgets.get(a.orgId)
  // A transaction commits whole: all of the batch's rows are there, or none.
  if (found.length > 0) {
    if (found.length !== doubtful.length)
      throw new Error(`a batch in doubt left ${found.length} of its ${doubtful.length} usage rows`)
    return 'committed'
  }
  // It did not commit, and must never: every one of its accounts is written (a new row
  // version), so its write — if it is still to run, with the cached versions — fails.
  if (inDoubt) for (const a of accounts.values()) a.dirty = true
  const stored = storedOutcomes(storedRows)

  const now = engine.clock()
  const decided = decideBatch(batch, accounts, stored, engine.options, now, engine.ttl)
  for (const t of decided.transitions) {
    await transitionSubscription(tx, {
      subscriptionId: t.subscriptionId,
      to: 'needs_reauth',
      cause: 'gate',
      reason: 'allowance_exhausted',
      at: now,
    })
  }

  // Round trip 2: every write of the batch in one statement, COMMIT behind it.
  const { newUsage } = decided
  const writes: Promise<unknown>[] = []
  const dirty = [...accounts.values()].filter((a) => a.dirty)
  let version: string | undefined
  if (newUsage.length > 0) {
    await assignIds(newUsage, engine.drawIds, tx, inDoubt)
    const params = writeParams(newUsage, accounts, dirty, now, { fresh: false })
    writes.push(
      tx.unsafe<{ version: string }[]>(WRITE_BATCH, params, { prepare: true }).then((rows) => {
        version = rows[0]?.version
      }),
    )
    // Metering never moves an allowance; anything else that did is written as well.
    if (movedAllowances(dirty).length > 0) writes.push(saveAccounts(tx, dirty))
  } else {
    writes.push(saveAccounts(tx, dirty))
  }
  if (decided.reached.length > 0) {
    writes.push(rollReachedBudgets(tx, decided.reached).execute())
    writes.push(emitBudgetsReached(tx, decided.reached).execute())
  }
  // Written, not yet awaited: a rejection is handled by the caller, after the COMMIT is sent.
  for (const w of writes) w.catch(() => undefined)
  return { accounts, decided, writes, version: () => version }
}
