// bench:notify — notifications end to end, and their cost to metering, in one run.
// 1. 10,000 events written through the outbox (as the triggers write them, at a steady rate)
//    while two delivery workers fan them out and post them, signed, to a local HTTP receiver:
//    how many arrived (lost = written − distinct ids received) and the p99 from an event's
//    write to its arrival.
// 2. bench:ledger's spread workload (64 callers over 1,000 orgs with room to spare) with the
//    outbox on — triggers enabled and a delivery worker polling beside the meter, in this
//    process — and off (triggers disabled), in alternating rounds: the median of the rounds'
//    on/off throughput ratios. A workload where every batch crosses a threshold costs more
//    (each crossing writes an event): BENCH_CROSSING=1 gives every org an allowance of 12
//    calls, so each is crossed at 80%, 95% and exhausted within the run.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadConfig } from '../../src/config/index.js'
import type { Db } from '../../src/db/client.js'
import { createMeter } from '../../src/ledger/index.js'
import { deliverWebhooks, fanOut } from '../../src/notifications/deliver.js'
import { createEndpoint } from '../../src/notifications/webhooks.js'
import { benchDatabase, makeOrgs, median, meterKnobs, percentile } from './benchDb.js'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000)
const CALLERS = 64
const PER_CALLER = Number(process.env.BENCH_PER_CALLER ?? 100)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)
const ORGS = 1_000
const CROSSING = process.env.BENCH_CROSSING === '1'
const config = loadConfig({})
const key = config.notifications.key
const links = { publicBaseUrl: config.product.publicBaseUrl }
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

/** A delivery worker, as `notify-deliver` runs (every 250 ms, draining): fan out, send. */
function startWorker(db: Db) {
  let stop = false
  const done = (async () => {
    while (!stop) {
      const f = await fanOut(db)
      const s = await deliverWebhooks(db, { key, links, batch: 100 })
      if (f === 0 && s === 0) await new Promise((r) => setTimeout(r, 250))
    }
  })()
  return async () => {
    stop = true
    await done
  }
}

const bench = await benchDatabase('notify', 16)
const { db } = bench
const receiver = await startReceiver()
try {
  console.log(
    `bench:notify — ${EVENTS} events to a local receiver; metering with the outbox on/off: ${CALLERS} callers × ${PER_CALLER} actions over ${ORGS} orgs${CROSSING ? ' (every org crossed)' : ''}, ${ROUNDS} rounds`,
  )
  // ---- 1. events through the outbox ----
  const [orgId] = await makeOrgs(db, 1, 10_000_000_000n)
  await createEndpoint(db, key, { orgId: orgId!, url: receiver.url, production: false })
  const workers = [startWorker(db), startWorker(db)]
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
  for (const stop of workers) await stop()
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
    const orgs = await makeOrgs(db, ORGS, allowance)
    if (CROSSING)
      for (const o of orgs)
        await createEndpoint(db, key, { orgId: o, url: receiver.url, production: false })
    await setTriggers(on)
    await db.$client`vacuum analyze`
    const stop = on ? startWorker(db) : async () => {}
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
    await stop()
    return rate
  }
  await run(true) // warm-up, not measured
  const ratios: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const first = round % 2 === 0
    const a = await run(first)
    const b = await run(!first)
    const [on, off] = first ? [a, b] : [b, a]
    ratios.push(on / off)
    console.log(
      `  round ${round + 1}: outbox off ${off.toFixed(0)} actions/s, on ${on.toFixed(0)} actions/s (${(on / off).toFixed(2)}×)`,
    )
  }
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
