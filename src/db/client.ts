import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema.js'

/** The database handle every domain function takes first. `db.$client` is postgres.js. */
export type Db = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql }

export type CreateDbParameters = {
  url: string
  /** Pool size; keep the sum over all processes well under the server's `max_connections`. */
  max?: number
  /** Name shown in `pg_stat_activity`. */
  applicationName?: string
}

/** Opens a pooled connection to PostgreSQL. Numeric and int8 values come back as strings. */
export function createDb({ url, max = 10, applicationName = 'tollgate' }: CreateDbParameters): Db {
  const sql = postgres(url, {
    max,
    onnotice: () => {},
    connection: { application_name: applicationName },
    // Money is bigint; never let a driver turn it into a float.
    types: { bigint: postgres.BigInt },
  })
  return drizzle({ client: sql, schema }) as Db
}

/** Closes the pool, waiting briefly for queries in flight. */
export async function closeDb(db: Db): Promise<void> {
  await db.$client.end({ timeout: 5 })
}
