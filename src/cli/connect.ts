import postgres from 'postgres'
import type { Config } from '../config/index.js'
import { closeDb, createDb, type Db } from '../db/client.js'
import { createLogger } from '../log.js'
import { bootDatabase } from './boot.js'

/**
 * The database for a one-shot command: `DATABASE_URL`, else the embedded PostgreSQL that
 * `tollgate dev` runs (if it is up), else the embedded one started for this command only.
 */
export async function connectDatabase(
  config: Config,
): Promise<{ db: Db; close: () => Promise<void> }> {
  if (config.db.url) {
    const db = createDb({ url: config.db.url, max: 4 })
    return { db, close: () => closeDb(db) }
  }
  const url = `postgres://postgres:postgres@127.0.0.1:${config.db.embeddedPort}/tollgate`
  const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
  const up = await probe`select 1`.then(
    () => true,
    () => false,
  )
  await probe.end({ timeout: 1 })
  if (up) {
    const db = createDb({ url, max: 4 })
    return { db, close: () => closeDb(db) }
  }
  const booted = await bootDatabase(config, createLogger('warn'))
  return { db: booted.db, close: booted.stop }
}
