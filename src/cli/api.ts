import cluster, { type Worker } from 'node:cluster'
import type { PublicClient } from 'viem'
import type { AppContext } from '../api/context.js'
import { createSigner } from '../chain/clients.js'
import { loadConfig } from '../config/index.js'
import { createLogger, type Logger } from '../core/log.js'
import { createMetrics } from '../core/metrics.js'
import { closeDb, createDb } from '../db/client.js'
import { createMeter } from '../ledger/index.js'
import { startApi } from './boot.js'
import { assertOperator, connectDatabase, connectReader } from './connect.js'
import { installProcessPolicy } from './processPolicy.js'

export type ApiOptions = {
  /** API processes sharing the port (node:cluster); 0 or absent: this process serves alone. */
  workers?: number
}

/**
 * `tollgate api`: the HTTP API alone, for API nodes behind a load balancer. It holds no state
 * of its own (everything is in PostgreSQL), so any number may run. With `--workers N` this
 * process is a supervisor that forks N API processes sharing the port and replaces any that
 * dies, unless it refused to start (exit 2); SIGTERM stops them all.
 */
export async function api(options: ApiOptions = {}) {
  const config = loadConfig()
  const log = createLogger(config.logLevel)
  const workers = options.workers ?? 0
  if (workers > 0 && cluster.isPrimary) return supervise(workers, log)
  return serve(createLogger(config.logLevel, { pid: process.pid }))
}

/** One API process: its database pools, the chain reader, a meter, the HTTP server. */
async function serve(log: Logger) {
  const config = loadConfig()
  const { db, close } = await connectDatabase(config)
  const { rpcUrl, reader, deployment } = await connectReader(config)
  // The meter on a small pool of its own, as under `tollgate dev`: its group commit must
  // never wait for a connection behind the requests' own queries.
  const meterUrl = config.db.url
  const meterDb = meterUrl
    ? createDb({ url: meterUrl, max: 3, applicationName: 'tollgate-meter' })
    : undefined
  const operator = config.chain.operatorKey
    ? await createSigner(rpcUrl, config.chain.operatorKey.reveal())
    : undefined
  if (operator) await assertOperator(reader, deployment, operator.account.address)
  const metrics = createMetrics({ processMetrics: true })
  const meter = createMeter(meterDb ?? db, {
    rateCard: config.rateCard,
    product: config.product,
    reservationTtlSeconds: config.billing.reservationTtlSeconds,
    log,
    onBatch: (n) => metrics.meterBatchSize.observe(n),
  })
  const ctx: AppContext = {
    config,
    db,
    log,
    meter,
    metrics,
    chain: {
      reader: reader as PublicClient,
      chainId: deployment.chainId,
      usdc: deployment.usdc,
      collector: deployment.collector,
      deployment,
      operator,
    },
  }
  const server = await startApi(ctx)
  log.info('api started', { url: server.url })
  const code = await new Promise<number>((done) => {
    process.once('SIGTERM', () => done(0))
    process.once('SIGINT', () => done(0))
    installProcessPolicy({ log, exit: done })
  })
  await server.stop()
  await meter.close()
  if (meterDb) await closeDb(meterDb)
  await close()
  process.exitCode = code
}

/**
 * An API process's exit code for "refused to start" (bad configuration, an operator key the
 * collector does not accept — a `ConfigError`, whose sentence it printed): starting it again
 * would only refuse again, so the supervisor stops (docs/operations.md, Processes).
 */
const refusedToStart = 2

/**
 * The cluster's primary: forks `n` API processes and forks a new one for each that exits
 * while it is not stopping (after a pause that grows while they keep dying at once, to 10 s).
 * A process that exits with `refusedToStart` stops them all, and this process exits with it.
 */
async function supervise(n: number, log: Logger) {
  let stopping = false
  let recentDeaths = 0
  let stop: () => void = () => {}
  const stopped = new Promise<void>((done) => {
    stop = done
  })
  const fork = () => {
    const w = cluster.fork()
    w.once('exit', (code, signal) => onExit(w, code, signal))
  }
  const onExit = (w: Worker, code: number | null, signal: string | null) => {
    if (stopping) return
    if (code === refusedToStart) {
      log.error('api process refused to start (its reason is above); stopping', {
        pid: w.process.pid,
        code,
      })
      process.exitCode = refusedToStart
      stop()
      return
    }
    recentDeaths++
    setTimeout(() => recentDeaths--, 30_000).unref()
    const delay = Math.min(10_000, 250 * 2 ** Math.max(0, recentDeaths - 1))
    log.warn('api process exited; starting another', {
      pid: w.process.pid,
      code,
      signal,
      restartInMs: delay,
    })
    setTimeout(() => {
      if (!stopping) fork()
    }, delay)
  }
  for (let i = 0; i < n; i++) fork()
  log.info('api supervisor started', { pid: process.pid, workers: n })
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  await stopped
  stopping = true
  const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
  await Promise.all(
    alive.map(
      (w) =>
        new Promise<void>((done) => {
          if (w.isDead()) return done()
          const timer = setTimeout(() => w.process.kill('SIGKILL'), 10_000)
          w.once('exit', () => {
            clearTimeout(timer)
            done()
          })
          w.process.kill('SIGTERM')
        }),
    ),
  )
}
