import type { Sql } from '../sql.js'
import type { InDoubt, MeterOutcome, NewUsage } from './types.js'

/** Draws `n` usage ids, on `sql` (a batch's connection) when there are too few left. */
export type DrawUsageIds = (n: number, sql: Sql) => Promise<bigint[]>

/**
 * Usage ids drawn from the usage table's sequence ahead of need, `block` at a time: a batch
 * knows its rows' ids before it sends them, so one whose COMMIT was sent but never answered
 * (the connection died) can be looked up, and is answered as it was committed — never
 * decided, and charged, a second time. The next block is drawn on a batch's own connection,
 * in the same round trip as its writes, once half of this one is used (only a first batch, or
 * one larger than what is left, waits for its ids).
 */
export function createUsageIds(block = 1024): DrawUsageIds {
  // Drawn ids; those before `next` are taken.
  let pool: bigint[] = []
  let next = 0
  let refill: Promise<void> | undefined
  const draw = (sql: Sql) =>
    (refill ??= sql
      .unsafe<{ id: bigint }[]>(
        `select nextval('usage_id_seq')::int8 as id from generate_series(1, $1::int4)`,
        [block],
        { prepare: true },
      )
      .then((rows) => {
        pool = pool.slice(next).concat(rows.map((r) => r.id))
        next = 0
      })
      .finally(() => {
        refill = undefined
      }))
  /** `n` ids, drawn on `sql` (a batch's connection) when there are too few left. */
  return async (n: number, sql: Sql): Promise<bigint[]> => {
    while (pool.length - next < n) await draw(sql)
    const ids = pool.slice(next, next + n)
    next += n
    if (pool.length - next < block / 2) draw(sql).catch(() => undefined)
    return ids
  }
}

/**
 * Gives each new usage row (and its outcome) an id: the one its item had in a batch left in
 * doubt (`InDoubt`), else a new one drawn on `sql`. Reused, an id makes the usage table's
 * primary key refuse a second row for the item, whatever became of the first.
 */
export async function assignIds(
  newUsage: NewUsage[],
  drawIds: DrawUsageIds,
  sql: Sql,
  inDoubt?: InDoubt,
) {
  const fresh = newUsage.filter((u) => !inDoubt?.ids.has(u.item))
  const ids = fresh.length === 0 ? [] : await drawIds(fresh.length, sql)
  fresh.forEach((u, i) => {
    u.id = ids[i]!
  })
  for (const u of newUsage) {
    u.id ??= inDoubt!.ids.get(u.item)!
    ;(u.outcome as MeterOutcome).usageId = u.id.toString()
  }
}
