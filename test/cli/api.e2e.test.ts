import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import postgres from 'postgres'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, expect, inject, test } from 'vitest'
import { freePort } from '../../src/chain/anvil.js'
import { startTestChain } from '../fixtures.js'
import { databaseUrl } from '../setup/postgres.js'
import { writeDeploymentFile } from '../support/writeDeploymentFile.js'
import { tollgate } from './run.js'

const children: ChildProcess[] = []
const cleanups: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  for (const f of cleanups.reverse()) await f().catch(() => {})
})

type Line = { msg?: string; pid?: number; requestId?: string; url?: string }

/** `tollgate …` as a long-running child; its stderr's JSON lines collected as they come. */
function start(args: string[], env: Record<string, string>) {
  const child = spawn('node', ['bin/tollgate.mjs', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  const lines: Line[] = []
  let rest = ''
  let raw = ''
  child.stderr!.on('data', (d: Buffer) => {
    raw += d
    rest += d
    const parts = rest.split('\n')
    rest = parts.pop()!
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Line)
  })
  const until = async <T>(find: () => T | undefined, what: string, ms = 120_000): Promise<T> => {
    const deadline = Date.now() + ms
    for (;;) {
      const found = find()
      if (found !== undefined) return found
      if (child.exitCode !== null)
        throw new Error(`exited ${child.exitCode} before ${what}: ${raw}`)
      if (Date.now() > deadline) throw new Error(`no ${what} in time: ${raw}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return { child, lines, until }
}

// One chain for the file: viem's nonce manager counts per address and chain id, so a second
// anvil with the same keys and chain id would be sent nonces it has not reached.
let chainOnce: ReturnType<typeof startTestChain> | undefined
const testChain = () => {
  if (!chainOnce) {
    chainOnce = startTestChain()
    cleanups.push(async () => (await chainOnce!).anvil.stop())
  }
  return chainOnce
}

const startedPids = (lines: Line[]) =>
  lines.filter((l) => l.msg === 'api started').map((l) => l.pid!)

// An operator's path on a new database: `tollgate migrate` applies every migration and exits,
// then `tollgate api --workers 2` serves the API from two processes on one port, and a
// process killed outright is replaced while the other goes on answering.
test('migrate a fresh database, then api --workers 2 serves from two pids and replaces a killed one', async () => {
  const adminUrl = inject('pgAdminUrl')
  const name = `tg_apicli_${randomBytes(4).toString('hex')}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  cleanups.push(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.end()
  })
  const url = databaseUrl(adminUrl, name)
  const empty = postgres(url, { max: 1, onnotice: () => {} })
  const [none] = await empty<{ t: string | null }[]>`select to_regclass('public.usage')::text as t`
  await empty.end()
  expect(none!.t).toBeNull()
  const chain = await testChain()
  const deploymentFile = writeDeploymentFile(chain.deployment, 'api-cli')
  const port = await freePort()
  const env = {
    DATABASE_URL: url,
    RPC_URL: chain.rpcUrl,
    DEPLOYMENT_FILE: deploymentFile,
    PORT: String(port),
    LOG_LEVEL: 'debug',
  }

  // On an empty database the API cannot serve a sign-up; migrate makes every table.
  const migrated = await tollgate(['migrate'], { DATABASE_URL: url })
  expect(migrated.stderr).toBe('')
  expect(migrated.code).toBe(0)
  expect(migrated.stdout).toBe('migrations applied\n')
  const db = postgres(url, { max: 1, onnotice: () => {} })
  cleanups.push(() => db.end())
  const [table] = await db<{ t: string | null }[]>`select to_regclass('public.usage')::text as t`
  expect(table!.t).toBe('usage')

  const api = start(['api', '--workers', '2'], env)
  const first = await api.until(() => {
    const p = startedPids(api.lines)
    return p.length >= 2 ? p : undefined
  }, 'two API processes')
  expect(new Set(first).size).toBe(2)
  const base = `http://127.0.0.1:${port}`

  // Each request on a new connection: the cluster hands connections out in turn.
  const signup = await fetch(`${base}/v1/orgs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({ name: 'Cluster', owner_address: `0x${'ab'.repeat(20)}` }),
  }).then((r) => r.json() as Promise<{ api_key: string }>)
  expect(signup.api_key).toMatch(/^tg_live_/)
  const servedBy = async (round: string, n: number) => {
    const ids: string[] = []
    for (let i = 0; i < n; i++) {
      const id = `${round}-${i}`
      const res = await fetch(`${base}/v1/usage`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${signup.api_key}`,
          'idempotency-key': id,
          'x-request-id': id,
          connection: 'close',
        },
        body: JSON.stringify({ action: 'save_comment' }),
      })
      expect(res.status).toBe(201)
      ids.push(id)
    }
    return api.until(
      () => {
        const pids = ids.map((id) => api.lines.find((l) => l.requestId === id)?.pid)
        return pids.every((p) => p !== undefined) ? new Set(pids as number[]) : undefined
      },
      'a log line for each request',
      20_000,
    )
  }
  expect([...(await servedBy('a', 12))].sort()).toEqual([...first].sort())

  // SIGKILL one: the supervisor starts another, and both serve again.
  const victim = first[0]!
  process.kill(victim, 'SIGKILL')
  const replacement = await api.until(
    () => startedPids(api.lines).find((p) => !first.includes(p)),
    'a replacement API process',
  )
  const after = await servedBy('b', 12)
  expect(after.has(victim)).toBe(false)
  expect([...after].sort()).toEqual([first[1]!, replacement].sort())
  expect(api.lines.some((l) => l.msg === 'api process exited; starting another')).toBe(true)

  // Every acknowledged action recorded once, whichever process took it.
  const [count] = await db<{ n: string }[]>`select count(*)::text as n from usage`
  expect(Number(count!.n)).toBe(24)

  const exited = new Promise((ok) => api.child.on('exit', ok))
  api.child.kill('SIGTERM')
  expect(await exited).toBe(0)
}, 300_000)

/** Pids of live processes whose environment holds `NAME=value` (this user's; others unreadable). */
function processesWith(name: string, value: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0')
      if (env.includes(`${name}=${value}`)) pids.push(Number(entry))
    } catch {
      // Gone meanwhile, or not ours.
    }
  }
  return pids
}

// An API process that refuses to start (here: OPERATOR_KEY outside the collector's operator
// set) exits 2; under --workers the supervisor must stop with that sentence and exit 2, not
// fork it again forever (docs/operations.md, Processes).
test('api --workers 2 with a key outside the operator set exits 2 with the reason, leaving no process', async () => {
  const chain = await testChain()
  const deploymentFile = writeDeploymentFile(chain.deployment, 'api-refused')
  const mark = randomBytes(8).toString('hex')
  const started = Date.now()
  const api = start(['api', '--workers', '2'], {
    // It refuses before its first query, so any reachable database will do.
    DATABASE_URL: inject('pgAdminUrl'),
    RPC_URL: chain.rpcUrl,
    DEPLOYMENT_FILE: deploymentFile,
    PORT: String(await freePort()),
    OPERATOR_KEY: generatePrivateKey(),
    TOLLGATE_TEST_MARK: mark,
  })
  let stderr = ''
  api.child.stderr!.on('data', (d: Buffer) => (stderr += d))
  const code = await new Promise<number | null>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`still running after 60 s: ${stderr}`)), 60_000)
    api.child.once('exit', (c) => {
      clearTimeout(timer)
      ok(c)
    })
  })
  expect(code).toBe(2)
  expect(Date.now() - started).toBeLessThan(60_000)
  expect(stderr).toMatch(
    /OPERATOR_KEY's address 0x\w{40} is not an operator of the collector 0x\w{40}/,
  )
  expect(api.lines.some((l) => l.msg === 'api process exited; starting another')).toBe(false)
  expect(processesWith('TOLLGATE_TEST_MARK', mark)).toEqual([])
}, 120_000)
