import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { ValidationError } from '../../core/errors.js'
import {
  adjustBalance,
  formatUsd,
  getBillingSummary,
  listLedgerEntries,
  setBillingMode,
} from '../../ledger/index.js'
import { connectDatabase } from '../connect.js'
import { idArgument } from '../idArgument.js'
import { printFields, printJson, printTable } from '../output.js'
import { usdArgument } from '../usdArgument.js'
import { topUpCommands } from './topUp.js'
import { usageCommand } from './usage.js'

const usd = (v: bigint | null) => (v === null ? 'none' : formatUsd(v))

/** `tollgate billing status|mode|adjust|top-up|auto-top-up|usage|transactions --org <id>`. */
export function billingCommand(program: Command) {
  const billing = program.command('billing').description('an org’s billing: status and ledger')
  billing
    .command('status')
    .description('state, signup credit, accrued, cap, drawn, remaining, monthly budget and spent')
    .requiredOption('--org <id>', 'organization id', idArgument)
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
    .requiredOption('--org <id>', 'organization id', idArgument)
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
  billing
    .command('adjust')
    .description(
      'a manual correction, on the record: credit or debit the signup credit or the accrued usage',
    )
    .requiredOption('--org <id>', 'organization id', idArgument)
    .requiredOption(
      '--balance <balance>',
      'voucher (the signup credit) or accrued (usage not yet charged)',
    )
    .option('--credit <usd>', 'in the org’s favour: more signup credit, or less accrued usage')
    .option('--debit <usd>', 'against the org: less signup credit, or more accrued usage')
    .requiredOption('--reason <text>', 'why (shown on the ledger line)')
    .requiredOption(
      '--key <key>',
      'idempotency key, permanent: a retry with it applies nothing twice',
    )
    .option('--actor <name>', 'who makes it, for the record', process.env.USER ?? 'operator')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        org: string
        balance: string
        credit?: string
        debit?: string
        reason: string
        key: string
        actor: string
        json?: boolean
      }) => {
        if (opts.balance !== 'voucher' && opts.balance !== 'accrued')
          throw new ValidationError(`--balance "${opts.balance}" is neither voucher nor accrued`)
        if ((opts.credit === undefined) === (opts.debit === undefined))
          throw new ValidationError('give --credit <usd> or --debit <usd>')
        const micros = usdArgument(opts.credit ?? opts.debit!)
        // In the org's favour: the signup credit grows, accrued usage shrinks.
        const credit = opts.credit !== undefined
        const amount = credit === (opts.balance === 'voucher') ? micros : -micros
        const { db, close } = await connectDatabase(loadConfig())
        try {
          const a = await adjustBalance(db, {
            orgId: opts.org,
            balance: opts.balance,
            amount,
            reason: opts.reason,
            actor: opts.actor,
            idempotencyKey: opts.key,
          })
          if (opts.json) return printJson(a)
          printFields([
            ['ledger line', `${a.entrySeq}${a.replayed ? ' (already made: first outcome)' : ''}`],
            ['balance', a.balance === 'voucher' ? 'signup credit' : 'accrued'],
            ['moved', formatUsd(BigInt(a.amountMicros))],
            ['after', formatUsd(BigInt(a.afterMicros))],
          ])
        } finally {
          await close()
        }
      },
    )
  topUpCommands(billing)
  usageCommand(billing)
  billing
    .command('transactions')
    .description('ledger lines, newest first')
    .requiredOption('--org <id>', 'organization id', idArgument)
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
