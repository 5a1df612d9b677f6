import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import {
  formatUsd,
  getBillingSummary,
  listLedgerEntries,
  setBillingMode,
} from '../../ledger/index.js'
import { connectDatabase } from '../connect.js'
import { printFields, printJson, printTable } from '../output.js'
import { topUpCommands } from './topUp.js'
import { usageCommand } from './usage.js'

const usd = (v: bigint | null) => (v === null ? 'none' : formatUsd(v))

/** `tollgate billing status|mode|top-up|auto-top-up|usage|transactions --org <id>`. */
export function billingCommand(program: Command) {
  const billing = program.command('billing').description('an org’s billing: status and ledger')
  billing
    .command('status')
    .description('state, signup credit, accrued, cap, drawn, remaining, monthly budget and spent')
    .requiredOption('--org <id>', 'organization id')
    .option('--json', 'machine-readable output')
    .action(async (opts: { org: string; json?: boolean }) => {
      const { db, close } = await connectDatabase(loadConfig())
      try {
        const s = await getBillingSummary(db, opts.org)
        if (opts.json) return printJson(s)
        printFields([
          ['subscription', s.subscriptionId],
          ['state', s.stateReason ? `${s.state} (${s.stateReason})` : s.state],
          ['signup credit', usd(s.signupCredit)],
          ['billing mode', s.billingMode],
          ['prepaid balance', usd(s.prepaid)],
          ['accrued', usd(s.accrued)],
          ['cap', usd(s.cap)],
          ['drawn', usd(s.drawn)],
          ['remaining', usd(s.remaining)],
          ['monthly budget', usd(s.monthlyLimit)],
          ['spent this period', usd(s.spentThisWindow)],
          ...(s.waitingForLimit > 0n
            ? [
                [
                  'waiting for budget',
                  `${usd(s.waitingForLimit)}${s.limitTooLow ? ' (larger than the monthly budget: the owner must raise it)' : ''}`,
                ] as [string, string],
              ]
            : []),
        ])
      } finally {
        await close()
      }
    })
  billing
    .command('mode <mode>')
    .description(
      'prepaid (usage draws the voucher, then the prepaid balance; never billed) or postpaid (default)',
    )
    .requiredOption('--org <id>', 'organization id')
    .option('--json', 'machine-readable output')
    .action(async (mode: string, opts: { org: string; json?: boolean }) => {
      if (mode !== 'prepaid' && mode !== 'postpaid') {
        process.stderr.write(`billing mode: "${mode}" is neither prepaid nor postpaid\n`)
        process.exitCode = 2
        return
      }
      const { db, close } = await connectDatabase(loadConfig())
      try {
        const m = await setBillingMode(db, { orgId: opts.org, mode })
        if (opts.json) return printJson(m)
        printFields([
          ['billing mode', m.mode],
          ['was', m.previous],
        ])
      } finally {
        await close()
      }
    })
  topUpCommands(billing)
  usageCommand(billing)
  billing
    .command('transactions')
    .description('ledger lines, newest first')
    .requiredOption('--org <id>', 'organization id')
    .option('--type <kinds>', 'comma-separated entry kinds (usage_billable, charge_collected, ...)')
    .option('--since <time>', 'ISO time, inclusive')
    .option('--until <time>', 'ISO time, exclusive')
    .option('--limit <n>', 'most lines', '50')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        org: string
        type?: string
        since?: string
        until?: string
        limit: string
        json?: boolean
      }) => {
        const { db, close } = await connectDatabase(loadConfig())
        try {
          const lines = await listLedgerEntries(db, {
            orgId: opts.org,
            kinds: opts.type?.split(','),
            since: opts.since ? new Date(opts.since) : undefined,
            until: opts.until ? new Date(opts.until) : undefined,
            limit: Number(opts.limit),
          })
          if (opts.json) return printJson(lines)
          printTable(
            ['seq', 'time', 'kind', 'amount', 'accrued after', 'memo'],
            lines.map((l) => [
              l.seq,
              l.createdAt.toISOString(),
              l.kind,
              formatUsd(l.amount),
              formatUsd(l.accruedAfter),
              l.memo ?? '',
            ]),
            [0, 3, 4],
          )
        } finally {
          await close()
        }
      },
    )
}
