import type postgres from 'postgres'
import type { LockedAccount } from '../accounts.js'
import { arrayParams } from '../sql.js'
import { answerBatch } from './answerBatch.js'
import { CALL_WRITE_FRESH, CHECK_FRESH } from './batchSql.js'
import { reachedKey } from './budgetsReached.js'
import { giveBack, unanswered } from './connections.js'
import { decideBatch, isRefusal } from './decideBatch.js'
import type { Engine } from './engine.js'
import { leftInDoubt } from './inDoubt.js'
import type { InDoubt, Item, Result } from './types.js'
import { assignIds } from './usageIds.js'
import { writeParams } from './writeParams.js'

/**
 * Runs a batch whose orgs are all cached on their cached accounts: one round trip, one
 * statement (`WRITE_FUNCTION`), committed on its own — PostgreSQL answers it only once
 * committed. Returns false, having written nothing, when the batch must be decided on locked
 * rows instead — or the batch in doubt, when its statement went unanswered.
 */
export async function runCached(engine: Engine, batch: Item[]): Promise<boolean | InDoubt> {
  const { cache, db, stats } = engine
  const wall = Date.now()
  const accounts = cache.take(batch, wall)
  if (!accounts) return false
  const now = engine.clock()
  const decided = decideBatch(batch, accounts, new Map(), engine.options, now, engine.ttl)
  // A refusal that moves the subscription (to needs_reauth) or finds a budget reached that this
  // engine has not said yet (`budget.reached`) is decided on locked rows, and
  // so is any other error; a plain refusal stands on the cached account once its versions
  // are found unchanged (`refuseCached`).
  if (
    decided.transitions.length > 0 ||
    decided.reached.some((r) => !engine.reachedSaid.has(reachedKey(r))) ||
    decided.results.some((r) => r instanceof Error && !isRefusal(r))
  )
    return false
  const accepting = new Set(decided.newUsage.map((u) => u.account.orgId))
  if (accepting.size < accounts.size) {
    // Orgs whose every action was refused write nothing: their refusals are answered after a
    // read that finds their rows unchanged, and the other orgs' actions go on as a batch of
    // their own (each org's decisions depend on its own account alone).
    const refused = batch.filter((i) => !accepting.has(i.p.orgId))
    const rest = batch.filter((i) => accepting.has(i.p.orgId))
    const refusals = decided.results.filter((_, i) => !accepting.has(batch[i]!.p.orgId))
    const checked = [...accounts.values()].filter((a) => !accepting.has(a.orgId))
    await Promise.all([
      refuseCached(engine, refused, refusals, checked, wall),
      rest.length > 0 ? engine.runBatch(rest) : undefined,
    ])
    return true
  }
  // Every org accepted something; in org-id order, the order locks are taken in.
  const dirty = [...accounts.values()].sort((x, y) => (x.orgId < y.orgId ? -1 : 1))
  let conn: postgres.ReservedSql | undefined
  try {
    conn = await db.$client.reserve()
    await assignIds(decided.newUsage, engine.drawIds, conn)
    const params = writeParams(decided.newUsage, accounts, dirty, now, { fresh: true })
    const settled = await Promise.allSettled([
      conn.unsafe<{ version: string }[]>(CALL_WRITE_FRESH, params, { prepare: true }).execute(),
    ])
    if (unanswered(settled)) {
      const inDoubt = await leftInDoubt(engine, conn, settled, batch, decided)
      conn = undefined
      return inDoubt
    }
    const [written] = settled
    if (written!.status === 'rejected') throw written!.reason
    conn.release()
    conn = undefined
    stats.cached++
    cache.remember(accounts, decided, written!.value[0]?.version)
    answerBatch(stats, batch, decided.results)
    return true
  } catch (error) {
    if (conn) await giveBack(conn, error)
    // The orgs that changed are read again, and for a second go the locked way (another
    // process may be metering them too); the rest of the batch stays cached. (A key already
    // stored fails the write too: the locked way answers it with its first outcome.)
    const { code, detail } = error as { code?: unknown; detail?: unknown }
    if (code === '40001' && typeof detail === 'string') {
      stats.stale++
      for (const org of detail.split(',')) {
        cache.forget(org)
        cache.backOff(org, wall)
      }
    } else if (code === '40P01') {
      for (const org of accounts.keys()) cache.backOff(org, wall)
    } else if (code !== '23505') {
      for (const org of accounts.keys()) cache.forget(org)
    }
    return false
  }
}

/**
 * Refusals decided on cached accounts, answered once a read (`CHECK_FRESH`, no lock, nothing
 * written, so no commit to wait for) finds those accounts' rows as they were cached. The
 * items of an org whose rows changed since (or of every org, when the read fails) are
 * decided again, on locked rows.
 */
async function refuseCached(
  engine: Engine,
  items: Item[],
  results: Result[],
  checked: LockedAccount[],
  wall: number,
) {
  const { cache, stats } = engine
  let stale: Set<string>
  try {
    const [row] = await engine.db.$client.unsafe<{ stale: string[] }[]>(
      CHECK_FRESH,
      arrayParams([
        checked.map((a) => a.orgId),
        checked.map((a) => a.versions!.account),
        checked.map((a) => a.versions!.subscription),
      ]),
      { prepare: true },
    )
    stale = new Set(row!.stale)
  } catch {
    stale = new Set(checked.map((a) => a.orgId))
  }
  for (const org of stale) {
    cache.forget(org)
    cache.backOff(org, wall)
  }
  if (stale.size > 0) stats.stale++
  const standing = items.filter((i) => !stale.has(i.p.orgId))
  if (standing.length > 0) {
    stats.refusedCached++
    answerBatch(
      stats,
      standing,
      results.filter((_, i) => !stale.has(items[i]!.p.orgId)),
      false,
    )
  }
  const again = items.filter((i) => stale.has(i.p.orgId))
  if (again.length > 0) await engine.runBatch(again)
}
