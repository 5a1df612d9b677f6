import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { detachMonthsBefore, ensureMonthPartitions } from '../../ledger/index.js'
import { connectDatabase } from '../connect.js'
import { printJson, printTable } from '../output.js'

/**
 * `tollgate partitions ensure` and `tollgate partitions detach --before YYYY-MM`: the monthly
 * partitions of `usage` and `ledger_entries` (docs/operations.md#data-growth). The worker makes
 * them ahead by itself; `ensure` does the same now. `detach` takes settled months out for
 * archive, keeping their totals for reconcile, and names the tables to dump and drop.
 */
export function partitionsCommand(program: Command) {
  const partitions = program
    .command('partitions')
    .description('monthly partitions of usage and ledger_entries')
  partitions
    .command('ensure')
    .description("create this month's and the next two months' partitions (the worker does too)")
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { db, close } = await connectDatabase(loadConfig())
      try {
        const created = await ensureMonthPartitions(db)
        if (opts.json) printJson({ created })
        else process.stdout.write(`${created} partitions created\n`)
      } finally {
        await close()
      }
    })
  partitions
    .command('detach')
    .description(
      'detach the settled months before YYYY-MM for archive (their totals stay for reconcile)',
    )
    .requiredOption('--before <month>', 'YYYY-MM: every older month is detached')
    .option('--json', 'machine-readable output')
    .action(async (opts: { before: string; json?: boolean }) => {
      const { db, close } = await connectDatabase(loadConfig())
      try {
        const months = await detachMonthsBefore(db, { before: opts.before })
        if (opts.json) printJson({ detached: months })
        else if (months.length === 0) process.stdout.write(`no month before ${opts.before}\n`)
        else {
          printTable(
            ['month', 'usage rows', 'ledger rows', 'tables'],
            months.map((m) => [
              m.month,
              m.usageRows.toString(),
              m.ledgerRows.toString(),
              m.tables.join(' '),
            ]),
            [1, 2],
          )
          const tables = months.flatMap((m) => m.tables)
          process.stdout.write(
            `\nNow standing alone: archive them (pg_dump ${tables.map((t) => `-t ${t}`).join(' ')}), then drop them.\n`,
          )
        }
      } finally {
        await close()
      }
    })
}
