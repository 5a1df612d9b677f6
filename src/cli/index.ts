import { Command } from 'commander'
import { loadConfig } from '../config/index.js'
import { BaseError, ConfigError } from '../core/errors.js'
import { createLogger } from '../core/log.js'
import { createMetrics } from '../core/metrics.js'
import { createMeter } from '../ledger/index.js'
import { serveMetrics } from '../worker/metrics.js'
import { api } from './api.js'
import { bootDatabase, startWorkerFor } from './boot.js'
import { billingCommand } from './commands/billing.js'
import { budgetCommand } from './commands/budget.js'
import { deploymentCommand } from './commands/deployment.js'
import { fundCommand } from './commands/fund.js'
import { mcpCommand } from './commands/mcp.js'
import { orgCommands } from './commands/orgs.js'
import { partitionsCommand } from './commands/partitions.js'
import { planCommand } from './commands/plan.js'
import { ratesCommand } from './commands/rates.js'
import { reconcileCommand } from './commands/reconcile.js'
import { refundCommand } from './commands/refund.js'
import { settleCommand } from './commands/settle.js'
import { simulateCommand } from './commands/simulate.js'
import { connectChain, connectDatabase } from './connect.js'
import { dev } from './dev.js'
import { devApp } from './devApp.js'
import { installProcessPolicy } from './processPolicy.js'

const program = new Command()
  .name('tollgate')
  .description('On-chain pay-as-you-go billing for APIs that agents call')

program
  .command('dev')
  .description(
    'start everything locally: PostgreSQL, anvil with USDC and the collector, API, worker',
  )
  .option('--json', 'print the summary as one JSON line')
  .option('--no-demo', 'skip the demo org and its simulated agents')
  .option('--demo-seconds <n>', 'how long the simulated agents run', '15')
  .option('--reset', 'start afresh: an empty embedded database and a new local chain')
  .action((opts: { json?: boolean; demo: boolean; demoSeconds: string; reset?: boolean }) =>
    dev({
      json: opts.json,
      demo: opts.demo,
      demoSeconds: Number(opts.demoSeconds),
      reset: opts.reset,
    }),
  )

program
  .command('dev-app', { hidden: true })
  .description('the API and the worker of `tollgate dev`, which starts (and restarts) it')
  .action(devApp)

program
  .command('api')
  .description('serve the HTTP API alone (no worker) until SIGTERM; any number may run')
  .option(
    '--workers <n>',
    'API processes sharing the port (node:cluster), each replaced when it dies',
    (v) => Number(v),
  )
  .action((opts: { workers?: number }) => {
    if (opts.workers !== undefined && !(Number.isInteger(opts.workers) && opts.workers >= 1))
      throw new ConfigError('--workers must be a whole number of at least 1')
    return api({ workers: opts.workers })
  })

const migrate = async () => {
  const config = loadConfig()
  const database = await bootDatabase(config, createLogger(config.logLevel))
  await database.stop()
  process.stdout.write('migrations applied\n')
}
const migrateHelp =
  'apply pending migrations and exit (embedded PostgreSQL when DATABASE_URL is unset)'
program.command('migrate').description(migrateHelp).action(migrate)
const db = program.command('db').description('database maintenance')
db.command('migrate').description(migrateHelp).action(migrate)

program
  .command('worker')
  .description(
    'run the settlement worker (settle, chain truth, indexer, reservation expiry) until SIGTERM',
  )
  .option(
    '--metrics-port <n>',
    'where GET /metrics listens (default WORKER_METRICS_PORT, 9464)',
    (v) => Number(v),
  )
  .action(async (opts: { metricsPort?: number }) => {
    const config = loadConfig()
    const log = createLogger(config.logLevel)
    const { db, close } = await connectDatabase(config)
    const c = await connectChain(config)
    const chain = {
      reader: c.reader,
      chainId: c.deployment.chainId,
      usdc: c.deployment.usdc,
      collector: c.deployment.collector,
      deployment: c.deployment,
      operator: c.operator,
    }
    const metrics = createMetrics({ processMetrics: true })
    const meter = createMeter(db, {
      rateCard: config.rateCard,
      product: config.product,
      onBatch: (n) => metrics.meterBatchSize.observe(n),
    })
    const worker = startWorkerFor({ config, db, log, chain, meter, metrics })
    const served = await serveMetrics(
      metrics,
      config.http.host,
      opts.metricsPort ?? config.workerMetricsPort,
    )
    log.info('worker started', {
      name: worker.name,
      operator: c.operator.account.address,
      metrics: served.url,
    })
    const code = await new Promise<number>((done) => {
      process.once('SIGTERM', () => done(0))
      process.once('SIGINT', () => done(0))
      installProcessPolicy({ log, exit: done })
    })
    await worker.stop()
    await served.stop()
    await meter.close()
    await close()
    process.exitCode = code
  })

ratesCommand(program)
billingCommand(program)
budgetCommand(program)
planCommand(program)
orgCommands(program)
settleCommand(program)
reconcileCommand(program)
partitionsCommand(program)
refundCommand(program)
simulateCommand(program)
mcpCommand(program)
fundCommand(program)
deploymentCommand(program)

program
  .parseAsync()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(2)
    }
    if (error instanceof BaseError) {
      // Messages of the spec's wording start with their code already.
      const said = error.message.startsWith(`${error.code}:`)
      process.stderr.write(`${said ? '' : `${error.code}: `}${error.message}\n`)
      process.exit(1)
    }
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exit(1)
  })
