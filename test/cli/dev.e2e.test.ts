import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { devEnv } from '../support/devEnv.js'
import { startDev } from '../support/startDev.js'
import { alive, serviceChildren } from './devStack.js'
import { tollgate } from './run.js'

const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-dev-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

// README command 1, as a user runs it: no DATABASE_URL, no RPC_URL. Everything comes up,
// /healthz is healthy with the real USDC answering, and SIGTERM leaves no process behind.
test('tollgate dev starts everything on embedded defaults and stops cleanly', async () => {
  const { env } = await devEnv({ dataDir })
  const dev = startDev(env, ['--demo-seconds', '6'])
  const summary = JSON.parse(await dev.mustLine('{"api"', 110_000)) as {
    api: string
    chain: { usdc: string }
    demo: unknown
  }
  const health = await fetch(`${summary.api}/healthz`).then((r) => r.json())
  expect(health.status).toBe('ok')
  expect(health.database.ok).toBe(true)
  expect(health.chain.ok).toBe(true)
  expect(health.chain.chain_id).toBe(31337)
  expect(health.chain.usdc.name).toBe('USD Coin')

  // Hostile action names (each once on a cached account) answer 400 and the process meters on.
  const signup = await fetch(`${summary.api}/v1/orgs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Hostile', owner_address: `0x${'ab'.repeat(20)}` }),
  }).then((r) => r.json())
  const usage = (path: string, action: string) =>
    fetch(`${summary.api}/v1/usage${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${signup.api_key}` },
      body: JSON.stringify({ action }),
    }).then(async (r) => [action, r.status, (await r.json()).error?.code ?? null])
  for (const action of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
    expect(await usage('', 'heartbeat')).toEqual(['heartbeat', 201, null])
    expect(await usage('', action)).toEqual([action, 400, 'UNKNOWN_ACTION'])
    expect(await usage('/check', action)).toEqual([action, 400, 'UNKNOWN_ACTION'])
  }
  expect(await usage('', 'save_comment')).toEqual(['save_comment', 201, null])

  // The demo: simulated agents cross the billing threshold and a real pull lands on-chain.
  const demo = JSON.parse(await dev.mustLine('{"demo"', 120_000)) as {
    demo: { collected_micros: string; tx_hash: string }
  }
  expect(BigInt(demo.demo.collected_micros)).toBeGreaterThan(0n)
  expect(demo.demo.tx_hash).toMatch(/^0x[0-9a-f]{64}$/)
  expect(summary).toMatchObject({ demo: { api_key: expect.stringMatching(/^tg_live_/) } })

  const children = await serviceChildren(dev.child.pid!)
  expect(children).toHaveLength(2) // postgres and anvil
  dev.child.kill('SIGTERM')
  const code = await dev.exited
  expect(code).toBe(0)
  await new Promise((r) => setTimeout(r, 500))
  expect(children.filter(alive)).toEqual([])
}, 240_000)

// The same data folder as the test above: PostgreSQL and the chain are already set up.
describe.sequential('a dev stack killed abruptly', () => {
  let env: NodeJS.ProcessEnv
  const stateFile = join(dataDir, 'anvil-state.json')
  const olderState = join(dataDir, 'older-state.json')

  test('killed with SIGKILL mid-run (anvil too), it comes back on the same chain or says it cannot', async () => {
    env = (await devEnv({ dataDir })).env
    // Pulls every few cents: the demo's pull comes sooner, and settlement is busier when killed.
    env.BILLING_THRESHOLD_MICROS = '50000'
    delete env.OPERATOR_KEY
    copyFileSync(stateFile, olderState)
    const first = startDev(env, ['--demo-seconds', '1'])
    expect(await first.line('{"api"', 90_000)).toBeDefined()
    // A pull lands on-chain and in the ledger; then the whole process group dies at once,
    // anvil with no chance to save anything on its way out.
    expect(await first.line('{"demo"', 120_000)).toBeDefined()
    process.kill(-first.child.pid!, 'SIGKILL')
    await first.exited

    const second = startDev(env, ['--no-demo'])
    const up = await second.line('{"api"', 90_000)
    console.info(`after SIGKILL, tollgate dev ${up ? 'resumed on the same chain' : 'refused'}`)
    if (up) {
      const reconcile = await tollgate(['reconcile', '--json'], env)
      expect(reconcile.stdout).toContain('"ok": true')
      expect(reconcile.code).toBe(0)
      process.kill(-second.child.pid!, 'SIGTERM')
      expect(await second.exited).toBe(0)
    } else {
      expect(await second.exited).toBe(1)
      expect(second.out.stderr).toMatch(
        /^The chain is behind the ledger: .* Not starting on it: run `tollgate dev --reset`/,
      )
    }
  }, 300_000)

  test('on a chain older than the ledger it refuses, in one sentence; --reset starts afresh', async () => {
    // The chain as it was before the last run's pulls: the ledger has collections it lacks.
    copyFileSync(olderState, stateFile)
    const older = startDev(env, ['--no-demo'])
    expect(await older.exited).toBe(1)
    expect(older.out.stderr).toMatch(
      /^The chain is behind the ledger: .* Not starting on it: run `tollgate dev --reset` \(npm start -- --reset\) to start afresh with an empty database and a new chain\.\n$/,
    )
    const reset = startDev(env, ['--no-demo', '--reset'])
    // A fresh database, chain and app child: over a minute when CI's other tests load the machine.
    expect(await reset.line('{"api"', 240_000)).toBeDefined()
    const reconcile = await tollgate(['reconcile', '--json'], env)
    expect(reconcile.code).toBe(0)
    process.kill(-reset.child.pid!, 'SIGTERM')
    expect(await reset.exited).toBe(0)
  }, 420_000)
})
