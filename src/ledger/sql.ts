import type postgres from 'postgres'

/** A postgres.js connection or transaction: ledger functions run inside either. */
export type Sql = postgres.Sql | postgres.TransactionSql

/** timestamptz → microseconds since the epoch, exactly (extract returns numeric). */
export const microsOf = (column: string) => `(extract(epoch from ${column}) * 1000000)::int8`

/** Microseconds since the epoch → a timestamptz literal Postgres parses exactly. */
export function toTimestamp(micros: bigint): string {
  const ms = micros / 1000n
  const rest = (micros % 1000n).toString().padStart(3, '0')
  return new Date(Number(ms)).toISOString().replace('Z', `${rest}Z`)
}

/** The ledger's clock: microseconds since the epoch. */
export const nowMicros = (): bigint => BigInt(Date.now()) * 1000n

/**
 * Array parameters for `sql.unsafe`: postgres.js serializes arrays only when told they are
 * arrays. Each becomes a Postgres array literal the statement's casts (`$1::int8[]`) type.
 */
export const arrayParams = (sql: Sql, params: unknown[][]) =>
  params.map((p) => sql.array(p as never[])) as never[]
