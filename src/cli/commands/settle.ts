import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { ValidationError } from '../../core/errors.js'
import { formatUsd } from '../../ledger/index.js'
import { settlementContextFor } from '../../settlement/context.js'
import { retireCharge, retireSeq } from '../../settlement/retireCharge.js'
import { settleOnce } from '../../settlement/settleOnce.js'
import { connectChain, connectDatabase } from '../connect.js'
import { printFields, printJson } from '../output.js'

/**
 * `tollgate settle --once`: one settlement pass — recover, book what is due, collect in batches.
 * `tollgate settle retire --charge <id> --reason <text>`: retire a charge that can never be
 * collected, on-chain first (its seq is used up, the next one collects), then on the ledger.
 * `--subscription <id> --seq <n>` instead of `--charge`: a seq the ledger allocated but holds no
 * charge for.
 */
export function settleCommand(program: Command) {
  const settle = program.command('settle')
  settle
    .command('retire')
    .description(
      'retire a seq that can never be collected: on-chain with the reason, then its charge (if any) is written off',
    )
    .option('--charge <id>', 'the charge id')
    .option('--subscription <id>', 'with --seq: a seq that has no charge row')
    .option('--seq <n>', 'the seq to retire (with --subscription)')
    .requiredOption('--reason <text>', 'why it can never be collected (recorded on-chain)')
    .option('--json', 'machine-readable output')
    // `settle` takes --json too, and commander gives a parent's option to the parent wherever
    // it stands, so the flag is read with the parent's options.
    .action(async (_opts: unknown, command: Command) => {
      const opts = command.optsWithGlobals<{
        charge?: string
        subscription?: string
        seq?: string
        reason: string
        json?: boolean
      }>()
      const bySeq = opts.subscription !== undefined || opts.seq !== undefined
      if (bySeq === (opts.charge !== undefined) || (bySeq && (!opts.subscription || !opts.seq)))
        throw new ValidationError('give --charge <id>, or --subscription <id> with --seq <n>')
      if (bySeq && !/^\d+$/.test(opts.seq!))
        throw new ValidationError('--seq must be a whole number', { field: 'seq' })
      const config = loadConfig()
      const { db, close } = await connectDatabase(config)
      try {
        const chain = await connectChain(config)
        const ctx = settlementContextFor(config, db, chain)
        if (bySeq) {
          const r = await retireSeq(ctx, {
            subscriptionId: opts.subscription!,
            seq: Number(opts.seq),
            reason: opts.reason,
          })
          if (opts.json) return printJson(r)
          return printFields([
            ['subscription', r.subscriptionId],
            ['seq retired', String(r.seq)],
            ['transaction', r.txHash],
          ])
        }
        const r = await retireCharge(ctx, { chargeId: opts.charge!, reason: opts.reason })
        if (opts.json) return printJson(r)
        printFields([
          ['charge', r.chargeId],
          ['subscription', r.subscriptionId],
          ['seq retired', String(r.seq)],
          ['written off', formatUsd(r.amount)],
          ['transaction', r.txHash],
        ])
      } finally {
        await close()
      }
    })
  settle
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
