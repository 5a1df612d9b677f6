// The API server bench:api measures, in its own process (so the load generator never shares
// its event loop): one pool for requests, one group-commit meter, replaced by a meter that
// records nothing (`createNoopMeter`) when BENCH_METERING=off, and by the floor of any
// separate durable step when BENCH_METERING=floor (see `floor`). Tells the parent its port
// over IPC, and stops on the parent's 'stop' message, answering with the meter's batch count.
import { createApp } from '../../src/api/app.js'
import { loadConfig } from '../../src/config/index.js'
import { createLogger } from '../../src/core/log.js'
import { closeDb, createDb } from '../../src/db/client.js'
import { createMeter, type MeterOutcome, type MeterParameters } from '../../src/ledger/index.js'
import { arrayParams } from '../../src/ledger/sql.js'
import { meterKnobs } from './benchDb.js'
import { createNoopMeter, unmeteredOutcome } from './noopMeter.js'

const config = loadConfig({
  PUBLIC_BASE_URL: 'http://127.0.0.1',
  DASHBOARD_URL: 'http://127.0.0.1',
})
const db = createDb({ url: process.env.BENCH_DB_URL!, max: Number(process.env.BENCH_POOL ?? 32) })
// The meter on its own small pool (BENCH_METER_POOL, default 4; 0 shares the API's pool): its
// group commit is on every metered request's path, so it must not queue behind 64 requests'
// own queries for a connection. Measured: p99 added ~90 ms shared vs ~12 ms on its own pool.
const meterPool = Number(process.env.BENCH_METER_POOL ?? 4)
const meterDb = meterPool > 0 ? createDb({ url: process.env.BENCH_DB_URL!, max: meterPool }) : db
const engine = createMeter(meterDb, {
  rateCard: config.rateCard,
  product: config.product,
  reservationTtlSeconds: config.billing.reservationTtlSeconds,
  // BENCH_CONCURRENCY, BENCH_PARALLEL_FROM, BENCH_ACCOUNT_CACHE: see `meterKnobs`.
  ...meterKnobs(),
})
// How long each metering step takes, from the request's call to its batch's commit: the part
// of a metered request's latency that metering adds.
const stepMs: number[] = []
const timed =
  <A, R>(f: (a: A) => Promise<R>) =>
  (a: A) => {
    const t = performance.now()
    return f(a).finally(() => stepMs.push(performance.now() - t))
  }
// The floor: the least a metering step can cost that is its own durable step, group-committed
// across requests (docs/design.md, Money flow) — and nothing else. The actions that arrive while
// one batch is in flight go together as the next: one insert of bare rows (`bench_floor`, made
// by the bench), committed on its own on the meter's pool; nothing read, decided, balanced or
// kept for a retry. The metering step does all that too, so it can cost no less than this.
const floorQueue: {
  p: MeterParameters
  done: (o: MeterOutcome) => void
  fail: (e: unknown) => void
}[] = []
let floorWriting = false
let floorScheduled = false
const floorFlush = async () => {
  floorScheduled = false
  if (floorWriting || floorQueue.length === 0) return
  floorWriting = true
  const batch = floorQueue.splice(0)
  try {
    await meterDb.$client
      .unsafe(
        'insert into bench_floor (org_id, action) select * from unnest($1::uuid[], $2::text[])',
        arrayParams([batch.map((b) => b.p.orgId), batch.map((b) => b.p.action)]),
        { prepare: true },
      )
      .execute()
    for (const b of batch) b.done(unmeteredOutcome(b.p))
  } catch (error) {
    for (const b of batch) b.fail(error)
  }
  floorWriting = false
  if (floorQueue.length > 0) void floorFlush()
}
const floor = (p: MeterParameters) =>
  new Promise<MeterOutcome>((done, fail) => {
    floorQueue.push({ p, done, fail })
    // Like the meter, the queue is taken after the burst of callers, not by its first alone.
    if (!floorScheduled) {
      floorScheduled = true
      setImmediate(floorFlush)
    }
  })
const metering = process.env.BENCH_METERING ?? 'on'
const meter =
  metering === 'off'
    ? createNoopMeter()
    : {
        ...engine,
        meter: timed(metering === 'floor' ? floor : engine.meter),
        reserve: timed(engine.reserve),
      }
const app = createApp({
  config,
  db,
  log: createLogger('silent'),
  chain: undefined,
  meter,
})
const server = app.listen(0, '127.0.0.1', () => {
  const a = server.address()
  process.send?.({ port: typeof a === 'object' && a ? a.port : 0 })
})
process.on('message', async (m) => {
  // CPU this process has used so far, in microseconds (the parent takes differences).
  if (m === 'cpu') {
    const u = process.cpuUsage()
    process.send?.({ cpu: u.user + u.system })
    return
  }
  // The metering step's p50 and p99 since the last ask, then start over.
  if (m === 'steps') {
    stepMs.sort((x, y) => x - y)
    const at = (q: number) =>
      stepMs[Math.min(stepMs.length - 1, Math.floor(q * stepMs.length))] ?? 0
    process.send?.({ stepP50: at(0.5), stepP99: at(0.99) })
    stepMs.length = 0
    return
  }
  if (m !== 'stop') return
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  await engine.close()
  await closeDb(db)
  if (meterDb !== db) await closeDb(meterDb)
  stepMs.sort((x, y) => x - y)
  const at = (q: number) => stepMs[Math.min(stepMs.length - 1, Math.floor(q * stepMs.length))] ?? 0
  process.send?.(
    {
      batches: engine.stats.batches,
      actions: engine.stats.actions,
      cached: engine.stats.cached,
      refusedCached: engine.stats.refusedCached,
      stale: engine.stats.stale,
      stepP50: at(0.5),
      stepP99: at(0.99),
    },
    () => process.exit(0),
  )
})
