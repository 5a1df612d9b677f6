import type { Sql } from './sql.js'

/**
 * Puts submitted charges back to `booked` (nothing of their batch was pulled): the next claim
 * sends them again with the same seq. Charges no longer `submitted` are left as they are.
 *
 * @example
 * await releaseCharges(tx, { chargeIds: ['12', '13'] })
 */
export async function releaseCharges(sql: Sql, p: { chargeIds: readonly string[] }): Promise<void> {
  await sql`update charges set status = 'booked', updated_at = clock_timestamp() where id = any(${p.chargeIds as string[]}::int8[]) and status = 'submitted'`
}
