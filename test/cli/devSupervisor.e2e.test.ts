import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { afterAll, expect, onTestFinished, test } from 'vitest'
import { devEnv } from '../support/devEnv.js'
import { startDev } from '../support/startDev.js'
import { alive, serviceChildren } from './devStack.js'

const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-devsup-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

/** The process listening on `port` on loopback, as `ss` reports it (undefined if none). */
function listener(port: number): Promise<number | undefined> {
  return new Promise((ok) => {
    const ss = spawn('ss', ['-ltnpH', `sport = :${port}`])
    let out = ''
    ss.stdout.on('data', (d) => (out += d))
    ss.on('close', () => {
      const pid = /pid=(\d+)/.exec(out)?.[1]
      ok(pid ? Number(pid) : undefined)
    })
  })
}

async function blockNumber(rpcUrl: string): Promise<bigint> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
  })
  return BigInt(((await res.json()) as { result: string }).result)
}

/** Polls until `probe` resolves truthy; fails after `ms`. */
async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>) {
  const deadline = Date.now() + ms
  for (;;) {
    const got = await probe().catch(() => undefined)
    if (got) return got
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** `startDev`, its whole process group killed when the test ends, however it ends. */
function startDevForTest(env: NodeJS.ProcessEnv, args: string[]) {
  const dev = startDev(env, args)
  onTestFinished(() => {
    try {
      process.kill(-dev.child.pid!, 'SIGKILL')
    } catch {}
  })
  return dev
}

// The process serving the API dies as abruptly as it can (SIGKILL: no handler, no cleanup).
// Under `tollgate dev` that is the app process alone: it is started again on the same port,
// against the same PostgreSQL and anvil, which never stopped, with everything metered before.
test('the API process killed with SIGKILL comes back; PostgreSQL, the chain and the data stay', async () => {
  const { ports, env } = await devEnv({ dataDir })
  const dev = startDevForTest(env, ['--no-demo'])
  const summary = JSON.parse((await dev.line('{"api"', 120_000))!) as {
    api: string
    chain: { rpc_url: string }
  }
  expect(summary.api).toBe(`http://127.0.0.1:${ports.api}`)

  const signup = (await fetch(`${summary.api}/v1/orgs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Supervised', owner_address: `0x${'cd'.repeat(20)}` }),
  }).then((r) => r.json())) as { org: { id: string }; api_key: string }
  const meter = (key: string) =>
    fetch(`${summary.api}/v1/usage`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${signup.api_key}`,
        'idempotency-key': key,
      },
      body: JSON.stringify({ action: 'save_comment' }),
    }).then((r) => r.status)
  const keys = Array.from({ length: 5 }, () => randomUUID())
  for (const key of keys) expect(await meter(key)).toBe(201)

  const sql = postgres(`postgres://postgres:postgres@127.0.0.1:${ports.pg}/tollgate`, {
    max: 1,
    onnotice: () => {},
  })
  const metered = () =>
    sql<{ id: string; idempotency_key: string; voucher_amount: string }[]>`
      select id::text, idempotency_key, voucher_amount::text from usage
      where org_id = ${signup.org.id} order by id`.then((rows) => rows.map((r) => ({ ...r })))
  const before = await metered()
  expect(before.map((r) => r.idempotency_key).sort()).toEqual([...keys].sort())
  const services = (await serviceChildren(dev.child.pid!)).sort()
  expect(services).toHaveLength(2) // postgres and anvil
  const head = await blockNumber(summary.chain.rpc_url)
  const app = await listener(ports.api)
  expect(app).toBeDefined()

  process.kill(app!, 'SIGKILL')
  const restarted = await until('a new process serving the API', 90_000, async () => {
    const pid = await listener(ports.api)
    if (pid === undefined || pid === app) return undefined
    const health = (await fetch(`${summary.api}/healthz`).then((r) => r.json())) as {
      status: string
    }
    return health.status === 'ok' ? pid : undefined
  })
  expect(restarted).not.toBe(app)
  expect(dev.out.stderr).toContain(
    `tollgate dev: the app (pid ${app}) was killed by SIGKILL after `,
  )
  expect(alive(dev.child.pid!)).toBe(true)
  expect((await serviceChildren(dev.child.pid!)).sort()).toEqual(services)
  expect(await blockNumber(summary.chain.rpc_url)).toBeGreaterThanOrEqual(head)
  // What was metered is all there; a retry of it is a replay, not a second charge.
  expect(await metered()).toEqual(before)
  expect(await meter(keys[0]!)).toBe(201)
  expect(await metered()).toEqual(before)
  expect(await meter(randomUUID())).toBe(201)
  expect(await metered()).toHaveLength(before.length + 1)
  await sql.end()

  process.kill(-dev.child.pid!, 'SIGTERM')
  expect(await dev.exited).toBe(0)
  await new Promise((r) => setTimeout(r, 500))
  expect([...services, restarted].filter(alive)).toEqual([])
}, 300_000)

// A port set explicitly and held by another program fails `tollgate dev` at once, in one
// sentence naming the variable, before anything is started (a taken port does not come free
// by restarting the app; superviseApp.test.ts covers an app that keeps dying at start).
test('a taken PORT, ANVIL_PORT or EMBEDDED_PG_PORT stops tollgate dev at once with one sentence', async () => {
  for (const [variable, key] of [
    ['PORT', 'api'],
    ['ANVIL_PORT', 'anvil'],
    ['EMBEDDED_PG_PORT', 'pg'],
  ] as const) {
    const { ports, env } = await devEnv({ dataDir })
    const squatter = createServer()
    await new Promise<void>((ok) => squatter.listen(ports[key], '127.0.0.1', ok))
    const dev = startDevForTest(env, ['--no-demo'])
    expect(await dev.exited, variable).toBe(1)
    squatter.close()
    // Nothing was started, so nothing was retried: the sentence is all it says.
    expect(dev.out.stderr).toBe(
      `${variable}=${ports[key]} is taken by another program: stop it, or set ${variable} to a free port.\n`,
    )
  }
}, 240_000)
