import type postgres from 'postgres'
import { RetryableError } from '../../core/errors.js'
import { lockAccounts } from '../accounts.js'
import { voidUsage } from '../reservations.js'
import { arrayParams, type Sql } from '../sql.js'
import { BEGIN, COMMIT } from './batchSql.js'
import { giveBack, reserveConnection } from './connections.js'
import type { Engine } from './engine.js'
import type { Decided, InDoubt, Item } from './types.js'

/** The batch `decided` as it stands when its COMMIT goes unanswered. */
const inDoubtOf = (decided: Decided): InDoubt => ({
  ids: new Map(decided.newUsage.map((u) => [u.item, u.id!])),
  results: decided.results,
  since: Date.now(),
  tries: 0,
})

/** Which of the usage rows `ids` exist (a batch in doubt's: all of them, or none). */
export const findUsage = (sql: Sql, ids: bigint[]) =>
  sql.unsafe<{ id: bigint; org_id: string }[]>(
    'select id, org_id from usage where id = any($1::int8[])',
    arrayParams([ids]),
    { prepare: true },
  )

/**
 * A batch whose COMMIT (the last of `settled`) went unanswered: its connection is let go,
 * its orgs read again, and what it decided kept, to answer with if it did commit.
 */
export async function leftInDoubt(
  engine: Engine,
  conn: postgres.ReservedSql,
  settled: PromiseSettledResult<unknown>[],
  batch: Item[],
  decided: Decided,
): Promise<InDoubt> {
  await giveBack(conn, (settled.at(-1) as PromiseRejectedResult).reason)
  for (const item of batch) engine.cache.forget(item.p.orgId)
  engine.stats.inDoubt++
  return inDoubtOf(decided)
}

/**
 * Asks after a batch in doubt: it is decided again on locked rows, after looking up its usage
 * ids there — the lock waits for its transaction if that is still running, and found, its
 * rows say it committed. It keeps being asked, backing off, for `inDoubtMs`; then its callers
 * get `METERING_IN_DOUBT` (a keyed retry is answered with the first outcome, if there was one).
 */
export async function resolveInDoubt(
  engine: Engine,
  batch: Item[],
  inDoubt: InDoubt,
  error?: unknown,
): Promise<void> {
  inDoubt.tries++
  if (Date.now() - inDoubt.since > engine.inDoubtMs) {
    const e = new RetryableError(
      'the metering outcome is unknown: the database connection was lost after the batch was sent',
      { code: 'METERING_IN_DOUBT', cause: error },
    )
    for (const item of batch) item.reject(e)
    fence(engine, inDoubt)
    return
  }
  if (inDoubt.tries > 1)
    await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** inDoubt.tries)))
  await engine.runBatch(batch, inDoubt)
}

/**
 * Fences a batch whose callers were told `METERING_IN_DOUBT` (they take their actions as
 * failed), once the database answers again: found committed, its usage is voided (nothing
 * stays charged for an action its caller saw fail); not found, its accounts are written, so
 * it can never commit. Tried until it is done, or the engine closes.
 */
function fence(engine: Engine, inDoubt: InDoubt) {
  const { db } = engine
  const ids = [...inDoubt.ids.values()]
  const orgIds = [...new Set([...inDoubt.ids.keys()].map((i) => i.p.orgId))].sort()
  const run = async () => {
    for (let tries = 0; ; tries++) {
      let conn: postgres.ReservedSql | undefined
      try {
        conn = await reserveConnection(db, Date.now() + 5_000)
        const [, , found] = await Promise.all([
          conn.unsafe(BEGIN).execute(),
          lockAccounts(conn, orgIds, { tag: 'meter' }),
          findUsage(conn, ids),
          conn.unsafe(
            'update billing_accounts set updated_at = clock_timestamp() where org_id = any($1::uuid[])',
            arrayParams([orgIds]),
            { prepare: true },
          ),
          conn.unsafe(COMMIT).execute(),
        ])
        conn.release()
        conn = undefined
        for (const u of found)
          await voidUsage(db, {
            orgId: u.org_id,
            usageId: u.id.toString(),
            reason: 'metering in doubt: its caller was told it failed',
          })
        return
      } catch (error) {
        if (conn) await giveBack(conn, error)
        if (engine.closed) return
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** tries)))
      }
    }
  }
  const fenced = run().finally(() => engine.fences.delete(fenced))
  engine.fences.add(fenced)
}
