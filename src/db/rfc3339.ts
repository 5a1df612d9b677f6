/**
 * A timestamp as RFC 3339 (`2026-12-02T11:48:54.478246+00:00`), microseconds kept. Queries on
 * the raw client get PostgreSQL's own text for timestamptz (`2026-12-02 11:48:54.478246+00`:
 * drizzle turns the driver's date parsing off), which is not what the API promises; Dates (from
 * drizzle's queries) are written with `toISOString`.
 *
 * @example
 * rfc3339('2026-12-02 11:48:54.478246+00') // '2026-12-02T11:48:54.478246+00:00'
 */
export function rfc3339<T extends string | Date | null | undefined>(
  value: T,
): T extends string | Date ? string : T extends null ? null : undefined {
  type R = T extends string | Date ? string : T extends null ? null : undefined
  if (value === null || value === undefined) return value as unknown as R
  if (value instanceof Date) return value.toISOString() as R
  const s = String(value).replace(' ', 'T')
  return (/[+-]\d\d$/.test(s) ? `${s}:00` : s) as R
}
