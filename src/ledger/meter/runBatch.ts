import type postgres from 'postgres'
import { RetryableError } from '../../core/errors.js'
import { databaseUnavailable } from '../../db/client.js'
import { answerBatch } from './answerBatch.js'
import { BEGIN, COMMIT } from './batchSql.js'
import { rememberReached } from './budgetsReached.js'
import { giveBack, reserveConnection, unanswered } from './connections.js'
import type { Engine } from './engine.js'
import { leftInDoubt, resolveInDoubt } from './inDoubt.js'
import { meterBatch } from './meterBatch.js'
import { runCached } from './runCached.js'
import type { InDoubt, Item } from './types.js'

/**
 * Runs one batch to its end and answers its callers: on cached accounts when it can, else in a
 * transaction on locked rows. A batch `inDoubt` is asked after; `again` marks the one more go
 * a batch gets when the database was unavailable.
 */
export async function runBatch(
  engine: Engine,
  batch: Item[],
  inDoubt?: InDoubt,
  again = false,
): Promise<void> {
  const { cache, stats } = engine
  if (!inDoubt && cache.size > 0) {
    const cached = await runCached(engine, batch)
    if (cached === true) return
    if (cached !== false) return await runBatch(engine, batch, cached)
  }
  let conn: postgres.ReservedSql | undefined
  try {
    // Two round trips per batch: BEGIN goes out with the locking reads, COMMIT with the
    // writes. A failed write aborts the transaction, and PostgreSQL then answers the COMMIT
    // with ROLLBACK — so a batch counts as committed only when every write succeeded and
    // the COMMIT said COMMIT. (A batch in doubt waits for a connection until its deadline.)
    conn = await reserveConnection(engine.db, inDoubt && inDoubt.since + engine.inDoubtMs)
    const begin = conn.unsafe(BEGIN).execute()
    const run = await meterBatch(engine, conn, batch, begin, inDoubt)
    if (run === 'committed') {
      // The batch in doubt had committed: its answers stand, and nothing is written again.
      await conn.unsafe('rollback')
      conn.release()
      conn = undefined
      answerBatch(stats, batch, inDoubt!.results)
      return
    }
    const { accounts, decided, writes, version } = run
    const settled = await Promise.allSettled([...writes, conn.unsafe(COMMIT).execute()])
    if (unanswered(settled)) {
      const inDoubt = await leftInDoubt(engine, conn, settled, batch, decided)
      conn = undefined
      return await resolveInDoubt(engine, batch, inDoubt)
    }
    const failed = settled.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    const commit = settled.at(-1) as PromiseFulfilledResult<{ command: string }>
    if (commit.value.command !== 'COMMIT')
      throw new RetryableError(`metering batch ended in ${commit.value.command}`)
    conn.release()
    conn = undefined
    cache.remember(accounts, decided, version())
    rememberReached(engine, decided)
    answerBatch(stats, batch, decided.results)
  } catch (error) {
    if (conn) await giveBack(conn, error)
    for (const item of batch) cache.forget(item.p.orgId)
    // Still in doubt (the database could not be asked): ask again, as a whole.
    if (inDoubt) return await resolveInDoubt(engine, batch, inDoubt, error)
    // The database, not an action (unreachable, out of connections): nothing was recorded,
    // and trying each action alone would only fail once per action, each waiting to connect.
    // The batch goes again once, whole (a dead connection may have been the only trouble);
    // then every caller gets the retryable error.
    const unavailable = databaseUnavailable(error)
    if (unavailable) {
      if (!again) return await runBatch(engine, batch, undefined, true)
      for (const item of batch) item.reject(unavailable)
      return
    }
    // One bad action must not sink the others: retry each alone, then report.
    if (batch.length > 1) {
      for (const item of batch) await runBatch(engine, [item])
      return
    }
    batch[0]!.reject(
      error instanceof Error &&
        'code' in error &&
        typeof error.code === 'string' &&
        error.code.length === 5
        ? new RetryableError('metering failed, retry', { cause: error })
        : error,
    )
  }
}
