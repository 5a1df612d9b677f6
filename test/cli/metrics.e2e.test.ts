import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { anvilKeys } from '../../src/config/index.js'
import { devEnv } from '../support/devEnv.js'
import { tollgateMetricFamilies } from '../support/metricFamilies.js'
import { startDev } from '../support/startDev.js'

const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-metrics-'))
const children: ChildProcess[] = []
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  rmSync(dataDir, { recursive: true, force: true })
})

/** Starts `tollgate …` and resolves with its output once `ready` finds what it waits for. */
function start(args: string[], env: NodeJS.ProcessEnv, ready: (out: string) => string | undefined) {
  const child = spawn('node', ['bin/tollgate.mjs', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let out = ''
  const found = new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`not ready: ${out}`)), 150_000)
    const look = (d: Buffer) => {
      out += d
      const hit = ready(out)
      if (hit !== undefined) {
        clearTimeout(timer)
        ok(hit)
      }
    }
    child.stdout!.on('data', look)
    child.stderr!.on('data', look)
    child.on('exit', (code) => fail(new Error(`exited ${code}: ${out}`)))
  })
  return { child, found }
}

/** The families of a Prometheus text answer, and each sample's value by its full name. */
function parse(text: string) {
  const families = new Set<string>()
  const samples = new Map<string, number>()
  for (const l of text.split('\n')) {
    const t = /^# TYPE (\S+) /.exec(l)
    if (t) families.add(t[1]!)
    else if (l && !l.startsWith('#')) {
      const i = l.lastIndexOf(' ')
      samples.set(l.slice(0, i), Number(l.slice(i + 1)))
    }
  }
  return { families, samples }
}

// After real traffic (the demo's agents, a pull on-chain, a refusal and a replay), the API's
// /metrics and a separate worker's /metrics show every family the operations doc lists.
test('/metrics on the API and the worker show every family after real traffic', async () => {
  const { ports, env } = await devEnv({ dataDir })
  const dev = startDev(env, ['--demo-seconds', '3'])
  children.push(dev.child)
  await dev.mustLine('{"demo"', 150_000)
  const api = `http://127.0.0.1:${ports.api}`
  const scrape = async () => parse(await fetch(`${api}/metrics`).then((r) => r.text()))
  const before = (await scrape()).samples
  // A refusal and an idempotent replay, with a request id passed in and echoed.
  const signup = await fetch(`${api}/v1/orgs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Metrics', owner_address: `0x${'cd'.repeat(20)}` }),
  }).then((r) => r.json())
  const usage = (action: string, key: string) =>
    fetch(`${api}/v1/usage`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${signup.api_key}`,
        'idempotency-key': key,
        'x-request-id': `req-${key}`,
      },
      body: JSON.stringify({ action }),
    })
  expect((await usage('no_such_action', 'a')).status).toBe(400)
  const first = await usage('save_comment', 'b')
  expect(first.headers.get('x-request-id')).toBe('req-b')
  const again = await usage('save_comment', 'b')
  expect(again.headers.get('idempotent-replayed')).toBe('true')

  const res = await fetch(`${api}/metrics`)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  const { families, samples } = parse(await res.text())
  for (const f of [...tollgateMetricFamilies, 'process_cpu_seconds_total'])
    expect(families, f).toContain(f)
  expect(samples.get('tollgate_meter_batch_size_count')).toBeGreaterThan(0)
  expect(
    samples.get('tollgate_meter_step_seconds_count{op="meter",outcome="recorded"}'),
  ).toBeGreaterThan(0)
  const added = (name: string) => (samples.get(name) ?? 0) - (before.get(name) ?? 0)
  expect(added('tollgate_refusals_total{code="UNKNOWN_ACTION",status="400"}')).toBe(1)
  expect(added('tollgate_idempotent_replays_total')).toBe(1)
  // The demo's pull landed: a batch with its gas, and the indexer close behind the head.
  expect(samples.get('tollgate_settlement_batch_gas{stat="last"}')).toBeGreaterThan(21_000)
  const head = samples.get('tollgate_chain_block{which="head"}')!
  expect(head).toBeGreaterThan(0)
  expect(head - samples.get('tollgate_chain_block{which="indexed"}')!).toBeLessThan(20)
  expect(samples.get('tollgate_operator_eth')).toBeGreaterThan(1)
  expect(samples.get('tollgate_db_pool_wait_seconds')).toBeLessThan(5)
  // Each queue reported, the backlog a count (events were written by the demo's activity).
  for (const q of ['outbox', 'webhooks', 'email'])
    expect(samples.get(`tollgate_outbox_backlog{queue="${q}"}`)).toBeGreaterThanOrEqual(0)
  // No org, key or subscription id in any label.
  for (const name of samples.keys()) expect(name).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/)

  // A worker of its own, against the same database and chain, serves its gauges.
  const worker = start(
    ['worker', '--metrics-port', '0'],
    {
      ...process.env,
      LOG_LEVEL: 'info',
      DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${ports.pg}/tollgate`,
      RPC_URL: `http://127.0.0.1:${ports.anvil}`,
      DEPLOYMENT_FILE: join(dataDir, 'deployment-31337.json'),
      // The dev stack's operator key: workers may share one (nonces under a row lock).
      OPERATOR_KEY: anvilKeys[1],
    },
    (out) => /"metrics":"(http:[^"]+)"/.exec(out)?.[1],
  )
  const workerMetrics = parse(await fetch(await worker.found).then((r) => r.text()))
  for (const f of [
    'tollgate_meter_batch_size',
    'tollgate_settlement_oldest_accrued_seconds',
    'tollgate_settlement_batch_gas',
    'tollgate_chain_block',
    'tollgate_operator_eth',
    'tollgate_db_pool_wait_seconds',
  ])
    expect(workerMetrics.families, f).toContain(f)
  expect(workerMetrics.samples.get('tollgate_operator_eth')).toBeGreaterThan(1)
  for (const c of [worker.child, dev.child]) {
    const exited = new Promise((ok) => c.on('exit', ok))
    c.kill('SIGTERM')
    expect(await exited).toBe(0)
  }
}, 300_000)
