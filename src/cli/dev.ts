import type { AppContext } from '../api/context.js'
import { loadConfig } from '../config/index.js'
import { createMeter } from '../ledger/index.js'
import { createLogger } from '../log.js'
import { bootChain, bootDatabase, startApi, startWorkerFor } from './boot.js'

export type DevOptions = { json?: boolean }

/**
 * `tollgate dev`: the whole system on embedded defaults — PostgreSQL and anvil (with real
 * USDC and the collector) when none are configured, then the API and the worker, all in
 * this process. Ctrl-C or SIGTERM stops everything it started, children included.
 */
export async function dev(options: DevOptions = {}) {
  const config = loadConfig()
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
  const stops: Array<() => Promise<unknown>> = []
  let stopping = false
  const shutdown = async (code: number) => {
    if (stopping) return
    stopping = true
    if (!options.json) process.stdout.write('\nstopping…\n')
    for (const stop of stops.reverse())
      await stop().catch((e) => log.error('stop failed', { error: String(e) }))
    process.exit(code)
  }
  process.on('SIGINT', () => void shutdown(0))
  process.on('SIGTERM', () => void shutdown(0))

  const progress = (step: string, done?: boolean) => {
    if (options.json) return
    process.stdout.write(done ? `  ✓ ${step}\n` : `  … ${step}\r`)
  }
  try {
    const database = await bootDatabase(config, log, progress)
    stops.push(database.stop)
    const chain = await bootChain(config, log, progress)
    stops.push(chain.stop)
    const meter = createMeter(database.db, {
      rateCard: config.rateCard,
      product: config.product,
      reservationTtlSeconds: config.billing.reservationTtlSeconds,
    })
    stops.push(() => meter.close())
    const ctx: AppContext = { config, db: database.db, log, chain: chain.chain, meter }
    progress('starting the API')
    const api = await startApi(ctx)
    stops.push(api.stop)
    progress('starting the API', true)
    const worker = startWorkerFor(ctx)
    stops.push(worker.stop)
    progress('starting the worker', true)

    const summary = {
      api: api.url,
      health: `${api.url}/healthz`,
      database: database.embedded
        ? `embedded PostgreSQL on 127.0.0.1:${config.db.embeddedPort}`
        : 'DATABASE_URL',
      chain: {
        rpc_url: chain.rpcUrl,
        chain_id: chain.chain.chainId,
        usdc: chain.deployment.usdc,
        collector: chain.deployment.collector ?? null,
      },
    }
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
    else {
      process.stdout.write(
        [
          '',
          `Tollgate is running (Ctrl-C to stop)`,
          `  API        ${summary.api}`,
          `  health     ${summary.health}`,
          `  database   ${summary.database}`,
          `  chain      ${summary.chain.rpc_url} (chain ${summary.chain.chain_id})`,
          `  USDC       ${summary.chain.usdc}`,
          `  collector  ${summary.chain.collector ?? '(not deployed)'}`,
          '',
        ].join('\n'),
      )
    }
    // Run until a signal: `shutdown` stops everything and exits.
    await new Promise<never>(() => {})
  } catch (error) {
    process.stderr.write(
      `tollgate dev failed: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    await shutdown(1)
  }
}
