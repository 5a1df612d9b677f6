// npm run fuzz [-- --requests 100000 --streams 12 --seed 1]: the API fuzzer (test/api/fuzzer.ts)
// for as long as asked, against the real API in a process of its own on a fresh database (on
// the machine's PostgreSQL, TEST_PG_ADMIN_URL, or an embedded one), dropped after. A server
// that dies is counted and started again on the same database, and the run goes on. It prints
// the first failure of each kind, then the detail, and ends with exactly one line:
//   fuzz: requests=<n> server_errors=<n> crashes=<n> ledger_changes=<n>
// crashes: server processes that died, plus connections dropped while the server stayed up.
// Exit status 1 when anything at all failed (badly-formed 4xx and undocumented answers too).
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { loadConfig } from '../src/config/index.js'
import { closeDb, createDb } from '../src/db/client.js'
import { migrateDb } from '../src/db/migrate.js'
import { fuzzApi } from '../test/api/fuzzer.js'
import { startApi } from '../test/api/server.js'
import { databaseUrl, startTestPostgres } from '../test/setup/postgres.js'

/** The server's settings: the rate limit lifted so requests reach their checks, credit plenty. */
const serverEnv = { SIGNUP_CREDIT_MICROS: '1000000000000' }
const host = 'tollgate.test'

if (process.env.FUZZ_SERVER_DATABASE) {
  // The server process: the API as the tests run it, on the run's database.
  const db = createDb({ url: process.env.FUZZ_SERVER_DATABASE, max: 16 })
  const api = await startApi(db, serverEnv, { rateLimits: { perKeyPerSecond: 1_000_000 } })
  process.send?.({ url: api.url })
} else {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '100000' },
      streams: { type: 'string', default: '12' },
      seed: { type: 'string', default: String(Date.now() % 100_000) },
    },
  })
  const requests = Number(values.requests)
  const pg = await startTestPostgres()
  const name = `tg_fuzz_${randomBytes(4).toString('hex')}`
  const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  const url = databaseUrl(pg.adminUrl, name)
  const db = createDb({ url, max: 16 })
  await migrateDb(db)

  let child: ChildProcess | undefined
  let serverUrl = ''
  let deaths = 0
  let droppedAlive = 0
  let stopping = false
  let starting: Promise<void> | undefined
  const start = () =>
    (starting ??= new Promise<void>((ok, fail) => {
      const c = fork(fileURLToPath(import.meta.url), [], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, FUZZ_SERVER_DATABASE: url },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      c.once('message', (m: { url: string }) => {
        serverUrl = m.url
        child = c
        starting = undefined
        ok()
      })
      c.once('exit', (code, signal) => {
        if (child !== c) return fail(new Error(`the server did not start (${code ?? signal})`))
        child = undefined
        if (stopping) return
        deaths++
        console.log(`fuzz: the server died (${code ?? signal}); starting it again`)
        void start()
      })
    }))
  await start()

  const seed = Number(values.seed)
  console.log(`fuzz: ${requests} requests, ${values.streams} streams, seed ${seed}`)
  const started = Date.now()
  const result = await fuzzApi({
    url: () => serverUrl,
    sql: db.$client,
    requests,
    streams: Number(values.streams),
    seed,
    host,
    actions: Object.keys(loadConfig({ PUBLIC_BASE_URL: `https://${host}` }).rateCard.prices),
    progressEvery: 10_000,
    progress: (r) =>
      console.log(
        `fuzz: … ${r.requests} requests in ${Math.round((Date.now() - started) / 1000)} s, ${r.serverErrors} 5xx, ${r.dropped} dropped, ${r.ledgerChanges} ledger changes`,
      ),
    onDropped: async () => {
      // A dropped connection: did the server die (counted at its exit), or only the connection?
      await new Promise((r) => setTimeout(r, 300))
      if (starting) await starting
      else if (child && child.exitCode === null) droppedAlive++
    },
  })

  // The process alive at the end: it meters as before.
  let alive = false
  try {
    const post = async (path: string, body: unknown, key?: string) =>
      (
        await fetch(`${serverUrl}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(key ? { authorization: `Bearer ${key}` } : {}),
          },
          body: JSON.stringify(body),
        })
      ).json() as Promise<Record<string, unknown>>
    const org = await post('/v1/orgs', {
      name: 'after the fuzz',
      owner_address: `0x${randomBytes(20).toString('hex')}`,
    })
    const used = await post('/v1/usage', { action: 'save_comment' }, org.api_key as string)
    alive = (used.metered as { action?: string } | undefined)?.action === 'save_comment'
  } catch {}
  if (!alive) deaths++

  stopping = true
  child?.kill('SIGTERM')
  await closeDb(db)
  await admin.unsafe(`drop database if exists "${name}" with (force)`)
  await admin.end()
  await pg.stop()

  for (const f of result.failures) console.log(`fuzz: FAILED ${f}`)
  console.log(
    `fuzz: ${Math.round((Date.now() - started) / 1000)} s; statuses ${JSON.stringify(result.statuses)}; ` +
      `bad_envelopes=${result.badEnvelopes} undocumented=${result.undocumented} dropped=${result.dropped} server_deaths=${deaths}`,
  )
  const crashes = deaths + droppedAlive
  console.log(
    `fuzz: requests=${result.requests} server_errors=${result.serverErrors} crashes=${crashes} ledger_changes=${result.ledgerChanges}`,
  )
  const failed =
    result.serverErrors + crashes + result.ledgerChanges + result.badEnvelopes + result.undocumented
  process.exit(failed > 0 ? 1 : 0)
}
