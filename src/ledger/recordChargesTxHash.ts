import type { Sql } from './sql.js'

/**
 * Records the transaction that carries submitted charges (sent, or its replacement at a higher
 * fee), so a charge always names its latest transaction. Run it with the batch's own record.
 *
 * @example
 * await recordChargesTxHash(tx, { chargeIds: ['12'], txHash: '0xabc…' })
 */
export async function recordChargesTxHash(
  sql: Sql,
  p: { chargeIds: readonly string[]; txHash: string },
): Promise<void> {
  await sql`update charges set tx_hash = ${p.txHash}, updated_at = clock_timestamp() where id = any(${p.chargeIds as string[]}::int8[]) and status = 'submitted'`
}
