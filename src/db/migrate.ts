import { resolve } from 'node:path'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import { projectRoot } from '../config/index.js'
import type { Db } from './client.js'

const migrationsFolder = resolve(projectRoot, 'src/db/migrations')

// Any number of processes may start at once against one database; an advisory lock
// makes the first apply the migrations while the others wait and then find nothing to do.
const MIGRATION_LOCK = 7_202_611_001

/** Applies every pending drizzle-kit migration, serialized across processes. */
export async function migrateDb(db: Db): Promise<void> {
  const reserved = await db.$client.reserve()
  try {
    await reserved`select pg_advisory_lock(${MIGRATION_LOCK})`
    await migrate(db, { migrationsFolder })
  } finally {
    await reserved`select pg_advisory_unlock(${MIGRATION_LOCK})`
    reserved.release()
  }
}
