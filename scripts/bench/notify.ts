// bench:notify — notifications end to end, and their cost to metering, in one run.
// 1. 10,000 events written through the outbox (as the triggers write them, at a steady rate)
//    while two delivery workers — processes of their own, as `tollgate worker` runs — fan them
//    out and post them, signed, to a local HTTP receiver: how many arrived (lost = written −
//    distinct ids received) and the p99 from an event's write to its arrival.
// 2. bench:ledger's spread workload (64 callers over 1,000 orgs with room to spare) with the
//    outbox on — triggers enabled and a delivery worker process polling beside the meter — and
//    off (triggers disabled, no worker), in alternating rounds: the median of the rounds'
//    on/off throughput ratios, and the CPU each action cost (this process, the worker's, the
//    database's). A workload where every batch crosses a threshold costs more (each crossing
//    writes an event): BENCH_CROSSING=1 gives every org an allowance of 12 calls, so each is
//    crossed at 80%, 95% and exhausted within the run.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadConfig } from '../../src/config/index.js'
import { createMeter } from '../../src/ledger/index.js'
import { createEndpoint } from '../../src/notifications/webhooks.js'
import { benchDatabase, cpuClock, makeOrgs, median, meterKnobs, percentile } from './benchDb.js'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000)
const CALLERS = 64
const PER_CALLER = Number(process.env.BENCH_PER_CALLER ?? 300)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6)
const ORGS = 1_000
const CROSSING = process.env.BENCH_CROSSING === '1'
const config = loadConfig({})
const key = config.notifications.key
const price = config.rateCard.prices.save_comment!
const triggers = [
  ['billing_accounts', 'billing_accounts_alerts'],
  ['subscriptions', 'subscriptions_alerts'],
  ['subscription_transitions', 'subscription_transitions_events'],
  ['charges', 'charges_events'],
] as const

/** A local receiver: answers 200 and notes when each event id first arrived. */
async function startReceiver() {
  const arrived = new Map<string, number>()
  let requests = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      requests++
      const id = String(req.headers['webhook-id'])
      if (!arrived.has(id)) arrived.set(id, Date.now())
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  return {
    url,
    arrived,
    requests: () => requests,
    close: () => new Promise((ok) => server.close(ok)),
  }
}

/** A delivery worker process (`notifyWorker.ts`), warm: resolves once it said `ready`. */
async function startWorker(url: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./notifyWorker.ts', import.meta.url).pathname],
    { env: { ...process.env, BENCH_DB_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && ok())
    child.once('exit', (code) => fail(new Error(`delivery worker exited (${code})`)))
  })
  /** CPU time the process has spent so far, in microseconds (Linux; elsewhere 0). */
  const cpu = () => {
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return (Number(f[11]) + Number(f[12])) * 10_000
    } catch {
      return 0
    }
  }
  return {
    /** Its CPU time so far (µs): take two readings for a span. */
    cpu,
    stop: async () => {
      const exited = new Promise((ok) => child.once('exit', ok))
      child.kill('SIGTERM')
      await exited
    },
  }
}

const bench = await benchDatabase('notify', 16)
const { db, url } = bench
const receiver = await startReceiver()
try {
  console.log(
    `bench:notify — ${EVENTS} events to a local receiver; metering with the outbox on/off: ${CALLERS} callers × ${PER_CALLER} actions over ${ORGS} orgs${CROSSING ? ' (every org crossed)' : ''}, ${ROUNDS} rounds`,
  )
  // ---- 1. events through the outbox ----
  const [orgId] = await makeOrgs(db, 1, 10_000_000_000n)
  await createEndpoint(db, key, { orgId: orgId!, url: receiver.url, production: false })
  const workers = await Promise.all([startWorker(url), startWorker(url)])
  const started = performance.now()
  const CHUNK = 100
  for (let written = 0; written < EVENTS; written += CHUNK) {
    await db.$client`
      select tollgate_emit_event(null, ${orgId!}::uuid, null, 'credit.low',
        jsonb_build_object('remaining_micros', i::text))
      from generate_series(1, ${Math.min(CHUNK, EVENTS - written)}) i`
    // About 2,000 events a second, a storm far above what real causes produce.
    await new Promise((r) => setTimeout(r, 50))
  }
  const deadline = Date.now() + 120_000
  while (receiver.arrived.size < EVENTS && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50))
  const seconds = (performance.now() - started) / 1000
  for (const w of workers) await w.stop()
  const written = await db.$client<{ id: string; at: number }[]>`
    select id, (extract(epoch from created_at) * 1000)::float8 as at from events
    where type = 'credit.low'`
  const latencies = new Float64Array(
    written
      .filter((e) => receiver.arrived.has(e.id))
      .map((e) => receiver.arrived.get(e.id)! - e.at),
  ).sort()
  const lost = written.length - latencies.length
  const p99 = percentile(latencies, 99)
  console.log(
    `  ${written.length} events written, ${latencies.length} delivered (${receiver.requests()} requests) in ${seconds.toFixed(1)} s; write → arrival p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
  )

  // ---- 2. metering with the outbox on vs off ----
  const meter = createMeter(db, {
    rateCard: config.rateCard,
    product: config.product,
    ...meterKnobs(),
  })
  const allowance = CROSSING ? price * 12n : 10_000_000_000n
  const setTriggers = async (on: boolean) => {
    for (const [table, name] of triggers)
      await db.$client.unsafe(`alter table ${table} ${on ? 'enable' : 'disable'} trigger ${name}`)
  }
  const run = async (on: boolean) => {
    await setTriggers(on)
    // Fresh orgs each run (8 at a time), so every run meters the same kind of accounts.
    const orgs = (
      await Promise.all(Array.from({ length: 8 }, () => makeOrgs(db, ORGS / 8, allowance)))
    ).flat()
    if (CROSSING)
      for (const o of orgs)
        await createEndpoint(db, key, { orgId: o, url: receiver.url, production: false })
    const worker = on ? await startWorker(url) : undefined
    // The setup's own events (each org's subscription.activated) are fanned out before the clock
    // starts: they are not the metering's cost.
    while ((await db.$client`select 1 from outbox limit 1`).length > 0)
      await new Promise((r) => setTimeout(r, 50))
    // Both kinds of run start from the same quiet: tables analyzed, dirty pages written out (the
    // org setup's), a moment's pause — else whichever run waits longer (the worker's start)
    // gets a calmer database and a head start.
    await db.$client`vacuum analyze`
    await db.$client`checkpoint`
    await new Promise((r) => setTimeout(r, 1_000))
    const cpu = await cpuClock(db)
    const worker0 = worker?.cpu() ?? 0
    const t = performance.now()
    let actions = 0
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, c) => {
        for (let i = 0; i < PER_CALLER; i++) {
          const org = orgs[(c * 7919 + i * 104_729) % orgs.length]!
          await meter
            .meter({ orgId: org, action: 'save_comment', idempotencyKey: randomUUID() })
            .catch((e: { code?: string }) => {
              if (e.code !== 'BILLING_INACTIVE') throw e
            })
          actions++
        }
      }),
    )
    const rate = actions / ((performance.now() - t) / 1000)
    const used = await cpu()
    const workerMicros = (worker?.cpu() ?? 0) - worker0
    await worker?.stop()
    return {
      rate,
      cpuMicros: (used.node + used.server + workerMicros) / actions,
      workerMicros: workerMicros / actions,
    }
  }
  await run(true) // warm-up, not measured
  await run(false)
  const ratios: number[] = []
  const cpuOn: number[] = []
  const cpuOff: number[] = []
  const cpuWorker: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const first = round % 2 === 0
    const a = await run(first)
    const b = await run(!first)
    const [on, off] = first ? [a, b] : [b, a]
    ratios.push(on.rate / off.rate)
    cpuOn.push(on.cpuMicros)
    cpuOff.push(off.cpuMicros)
    cpuWorker.push(on.workerMicros)
    console.log(
      `  round ${round + 1}: outbox off ${off.rate.toFixed(0)} actions/s (${off.cpuMicros.toFixed(0)} µs CPU/action), on ${on.rate.toFixed(0)} actions/s (${on.cpuMicros.toFixed(0)} µs CPU/action) (${(on.rate / off.rate).toFixed(2)}×)`,
    )
  }
  console.log(
    `  CPU per action (this process + delivery worker + database), median (off/on ${(median(cpuOff) / median(cpuOn)).toFixed(2)}): outbox off ${median(cpuOff).toFixed(0)} µs, on ${median(cpuOn).toFixed(0)} µs (of it the delivery worker ${median(cpuWorker).toFixed(1)} µs)`,
  )
  await setTriggers(true)
  await meter.close()
  const [events] = await db.$client<{ n: number }[]>`
    select count(*)::int as n from events where type <> 'credit.low'`
  const ratio = median(ratios)
  console.log(`  ${events!.n} events from the metering rounds (the outbox-on runs' crossings)`)
  console.log(
    `bench:notify events=${written.length} lost=${lost} p99_delivery_ms=${p99.toFixed(0)} ledger_ratio=${ratio.toFixed(2)}`,
  )
} finally {
  await receiver.close()
  await bench.drop()
}
