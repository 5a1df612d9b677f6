import type postgres from 'postgres'

/** A postgres.js connection or transaction: ledger functions run inside either. */
export type Sql = postgres.Sql | postgres.TransactionSql

/** timestamptz → microseconds since the epoch, exactly (extract returns numeric). */
export const microsOf = (column: string) => `(extract(epoch from ${column}) * 1000000)::int8`

/**
 * Microseconds since the epoch → a timestamptz literal Postgres parses exactly. (A batch's
 * rows share one time: the last one converted is kept.)
 */
export function toTimestamp(micros: bigint): string {
  if (micros === last.micros) return last.text
  const ms = micros / 1000n
  const rest = (micros % 1000n).toString().padStart(3, '0')
  last.text = new Date(Number(ms)).toISOString().replace('Z', `${rest}Z`)
  last.micros = micros
  return last.text
}
const last = { micros: -1n, text: '' }

/** The ledger's clock: microseconds since the epoch. */
export const nowMicros = (): bigint => BigInt(Date.now()) * 1000n

/**
 * Array parameters for `sql.unsafe`, one per column: each a Postgres array literal the
 * statement's casts (`$1::int8[]`) type. Written here in one pass, not by the driver (which
 * quotes and escapes every element with two regular expressions): numbers, bigints and plain
 * words (ids, names, timestamps) as they are; other strings quoted, and escaped only when they
 * hold a quote or a backslash.
 */
export const arrayParams = (params: ReadonlyArray<ReadonlyArray<ArrayElement>>) =>
  params.map(arrayLiteral) as never[]

export type ArrayElement = string | number | bigint | null | undefined

const needsEscape = /[\\"]/g
/** Needs no quotes in an array literal (unless it spells NULL). */
const bare = /^[\w.:+-]+$/

/** A Postgres array literal of `values` (null and undefined are NULL). */
function arrayLiteral(values: ReadonlyArray<ArrayElement>): string {
  const parts = new Array<string | number | bigint>(values.length)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null || v === undefined) parts[i] = 'NULL'
    else if (typeof v !== 'string') parts[i] = v
    else if (bare.test(v) && !(v.length === 4 && v.toLowerCase() === 'null')) parts[i] = v
    else if (v.includes('"') || v.includes('\\')) parts[i] = `"${v.replace(needsEscape, '\\$&')}"`
    else parts[i] = `"${v}"`
  }
  return `{${parts.join(',')}}`
}

/**
 * `select unnest($first::type[]) as name, ...`: the rows of array parameters, zipped (the
 * arrays are of one length). In the select list, each unnest streams its elements; in FROM,
 * each would first fill a tuplestore of its own, allocated and freed on every execution — a
 * dozen per batch statement, and a measurable share of the server's time on small batches.
 */
export const zipArrays = (
  first: number,
  columns: ReadonlyArray<readonly [string, string, ...unknown[]]>,
) =>
  `select ${columns.map(([name, type], i) => `unnest($${first + i}::${type}[]) as ${name}`).join(', ')}`

/** A column written from array parameters: its name, its type, and its value for one row. */
export type Column<T> = readonly [name: string, type: string, value: (row: T) => ArrayElement]

/** `columns` of `rows` as array parameters (for a statement that reads them with `zipArrays`). */
export const columnParams = <T>(columns: ReadonlyArray<Column<T>>, rows: readonly T[]) =>
  arrayParams(columns.map(([, , value]) => rows.map(value)))
