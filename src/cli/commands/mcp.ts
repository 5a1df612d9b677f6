import type { Command } from 'commander'
import type { AppContext } from '../../api/context.js'
import { loadConfig } from '../../config/index.js'
import { ConfigError } from '../../core/errors.js'
import { createLogger } from '../../core/log.js'
import { createMeter } from '../../ledger/index.js'
import { serveStdio } from '../../mcp/stdio.js'
import { connectDatabase } from '../connect.js'

/** `tollgate mcp --key …`: the MCP tools over stdio, for an agent that runs on this machine. */
export function mcpCommand(program: Command) {
  program
    .command('mcp')
    .description(
      'serve the MCP tools over stdio to a local agent, as the holder of an API or session key',
    )
    .option('--key <key>', 'the API key (tg_live_…) or session key (default TOLLGATE_KEY)')
    .action(async (opts: { key?: string }) => {
      const key = opts.key ?? process.env.TOLLGATE_KEY
      if (!key) throw new ConfigError('--key (or TOLLGATE_KEY) is required')
      // stdout carries the protocol: anything printed by a dependency goes to stderr.
      console.log = console.error
      const config = loadConfig()
      const log = createLogger(config.logLevel)
      const { db, close } = await connectDatabase(config)
      const meter = createMeter(db, { rateCard: config.rateCard, product: config.product, log })
      const ctx: AppContext = { config, db, log, chain: undefined, meter }
      try {
        const served = await serveStdio(ctx, key)
        await Promise.race([
          served.closed,
          new Promise((done) => {
            process.once('SIGTERM', done)
            process.once('SIGINT', done)
          }),
        ])
        await served.close()
      } finally {
        await meter.close()
        await close()
      }
    })
}
