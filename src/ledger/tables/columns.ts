import { bigint, timestamp } from 'drizzle-orm/pg-core'

/** A micro-credit amount column (bigint, read as a JS bigint). */
export const micros = (name: string) => bigint(name, { mode: 'bigint' })
/** A timestamptz column with microsecond precision. */
export const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 6 })
