import type { Sql } from './sql.js'

/**
 * Moves a claimed charge to another window of its subscription (the collector takes it only in
 * its current window or the one before). Counting it there is `carryChargeIntoWindow`'s part.
 *
 * @example
 * await moveChargeWindow(tx, { chargeId: '12', windowIndex: 3 })
 */
export async function moveChargeWindow(
  sql: Sql,
  p: { chargeId: string; windowIndex: number },
): Promise<void> {
  await sql`update charges set window_index = ${p.windowIndex}, updated_at = clock_timestamp() where id = ${p.chargeId}`
}
