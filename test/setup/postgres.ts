import { mkdtempSync } from 'node:fs'
import { chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { freePort } from '../../src/chain/anvil.js'
import { startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js'

/** Where test databases live: the machine's PostgreSQL if a real login works, else an embedded one. */
export type TestPostgres = { adminUrl: string; stop: () => Promise<void> }

const machineUrl = 'postgres://postgres@127.0.0.1:5432/postgres'

async function canLogin(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
  try {
    await sql`select 1`
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

/** Finds or starts a PostgreSQL server for the test run (`TEST_PG_ADMIN_URL` overrides). */
export async function startTestPostgres(): Promise<TestPostgres> {
  const explicit = process.env.TEST_PG_ADMIN_URL
  if (explicit) return { adminUrl: explicit, stop: async () => {} }
  if (process.env.TEST_PG_EMBEDDED !== '1' && (await canLogin(machineUrl))) {
    return { adminUrl: machineUrl, stop: async () => {} }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-test-pg-'))
  // As root, PostgreSQL runs as the postgres user, which must be able to enter this folder.
  await chmod(dataDir, 0o777)
  const port = await freePort()
  const pg = await startEmbeddedPostgres({ dataDir, port, database: 'postgres' })
  return { adminUrl: pg.url, stop: pg.stop }
}

/** The admin URL with another database name. */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}
