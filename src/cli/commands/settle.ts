import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { settlementContextFor } from '../../settlement/context.js'
import { settleOnce } from '../../settlement/settleOnce.js'
import { connectChain, connectDatabase } from '../connect.js'
import { printFields, printJson } from '../output.js'

/** `tollgate settle --once`: one settlement pass — recover, book what is due, collect in batches. */
export function settleCommand(program: Command) {
  program
    .command('settle')
    .description('book due charges and collect them on-chain')
    .option('--once', 'one pass, then exit (the worker runs passes on a timer)')
    .option('--org <ids>', 'only these orgs (comma-separated)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { once?: boolean; org?: string; json?: boolean }) => {
      const config = loadConfig()
      const { db, close } = await connectDatabase(config)
      try {
        const chain = await connectChain(config)
        const report = await settleOnce(settlementContextFor(config, db, chain), {
          orgIds: opts.org?.split(','),
        })
        if (opts.json) return printJson(report)
        printFields([
          ['recovered', String(report.recovered)],
          ['charges booked', String(report.booked)],
          ['batches sent', String(report.batches)],
          ['collected', String(report.collected)],
          ['failed', report.failed.map((f) => `${f.chargeId}:${f.reason}`).join(', ') || '0'],
          ['transactions', report.txHashes.join(', ') || 'none'],
          ['gas used', report.gasUsed.toString()],
        ])
        if (report.failed.length > 0) process.exitCode = 1
      } finally {
        await close()
      }
    })
}
