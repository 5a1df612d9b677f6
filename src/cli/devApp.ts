import type { AppContext } from '../api/context.js'
import { createReader } from '../chain/clients.js'
import { readDeployment } from '../chain/deployment.js'
import { loadConfig } from '../config/index.js'
import { ConfigError } from '../core/errors.js'
import { createLogger } from '../core/log.js'
import { createMetrics } from '../core/metrics.js'
import { closeDb, createDb } from '../db/client.js'
import { createMeter } from '../ledger/index.js'
import type { CaughtMail } from '../notifications/mailCatcher.js'
import { chainContext, startApi, startWorkerFor } from './boot.js'
import { installProcessPolicy } from './processPolicy.js'
import { stopInOrder } from './stopInOrder.js'
import type { AppReadyMessage } from './superviseApp.js'

/** The environment variable through which `tollgate dev` hands its app process a `DevAppHandoff`. */
export const devAppEnv = 'TOLLGATE_DEV_APP'

/**
 * Where the services `tollgate dev` runs are: each app process it starts, the first or a
 * restarted one, connects to the same PostgreSQL and chain.
 */
export type DevAppHandoff = {
  databaseUrl: string
  rpcUrl: string
  deploymentFile: string
  /** Whether `tollgate dev` runs the local mail catcher (then it sends the mail it caught). */
  devMail: boolean
}

/** What `tollgate dev` sends its app process: mail its catcher caught, to show at /dev/mail. */
export type DevMailMessage = { type: 'mail'; mails: CaughtMail[] }

const keptMails = 500

/**
 * `tollgate dev-app` (started by `tollgate dev`, never by hand): the API and the worker on the
 * database and chain `tollgate dev` runs, until SIGTERM — or until `tollgate dev` is gone, as
 * nothing would restart it then. It ignores SIGINT: Ctrl-C reaches the whole process group,
 * and `tollgate dev` stops this process first, itself.
 */
export async function devApp() {
  const raw = process.env[devAppEnv]
  const send = process.send?.bind(process)
  if (!raw || !send) throw new ConfigError('tollgate dev-app is started by tollgate dev only')
  const handoff = JSON.parse(raw) as DevAppHandoff
  const config = loadConfig()
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
  const { add, shutdown } = stopInOrder(log)
  process.on('SIGTERM', () => void shutdown(0))
  process.on('SIGINT', () => {})
  process.on('disconnect', () => void shutdown(0))
  installProcessPolicy({ log, exit: shutdown })
  const devMail = handoff.devMail ? { mails: [] as CaughtMail[] } : undefined
  process.on('message', (m: DevMailMessage) => {
    if (m?.type !== 'mail' || !devMail) return
    devMail.mails.push(...m.mails)
    if (devMail.mails.length > keptMails) devMail.mails.splice(0, devMail.mails.length - keptMails)
  })

  try {
    const db = createDb({ url: handoff.databaseUrl, max: config.db.poolMax })
    add(() => closeDb(db))
    // The meter on a small pool of its own: its group commit is on every metered request's
    // path, and must never wait for a connection behind the requests' own queries (bench:api
    // measured p99 added ~90 ms on a shared pool, ~12 ms on its own).
    const meterDb = createDb({
      url: handoff.databaseUrl,
      max: 3,
      applicationName: 'tollgate-meter',
    })
    add(() => closeDb(meterDb))
    const chain = await chainContext(config, {
      rpcUrl: handoff.rpcUrl,
      reader: await createReader(handoff.rpcUrl),
      deployment: readDeployment(handoff.deploymentFile),
    })
    // One set of metrics for the API and the worker of this process, served at /metrics.
    const metrics = createMetrics({ processMetrics: true })
    const meter = createMeter(meterDb, {
      rateCard: config.rateCard,
      product: config.product,
      reservationTtlSeconds: config.billing.reservationTtlSeconds,
      log,
      onBatch: (n) => metrics.meterBatchSize.observe(n),
    })
    add(() => meter.close())
    const ctx: AppContext = { config, db, log, chain, meter, metrics, devMail }
    const api = await startApi(ctx)
    add(api.stop)
    const worker = startWorkerFor(ctx)
    add(worker.stop)
    send({ type: 'ready', api: api.url } satisfies AppReadyMessage)
    // Run until SIGTERM: `shutdown` stops everything and exits.
    await new Promise<never>(() => {})
  } catch (error) {
    // A port another program holds is the one start-up failure a newcomer meets first: say
    // which setting picks another.
    const inUse = (error as { code?: unknown }).code === 'EADDRINUSE'
    const busy = inUse
      ? ` (port ${config.http.port} is in use by another program: stop it, or pick another port with PORT, e.g. PORT=${config.http.port + 1} npm start)`
      : ''
    process.stderr.write(
      `tollgate dev: the app failed to start: ${error instanceof Error ? error.message : String(error)}${busy}\n`,
    )
    // A PORT the developer chose, taken since tollgate dev checked it, is not retried: exit 2
    // tells the supervisor starting again would fail again.
    await shutdown(inUse && process.env.PORT !== undefined ? 2 : 1)
  }
}
