import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { ValidationError } from '../../core/errors.js'
import { formatUsd, refund } from '../../ledger/index.js'
import { connectDatabase } from '../connect.js'
import { printFields, printJson } from '../output.js'
import { microsOfUsd } from './budget.js'

/**
 * `tollgate refund <charge-id> [--amount <usd>] --reason <text> --key <idempotency key>`, or
 * `tollgate refund --usage <id,id,...> ...`: an operator's refund, on the ledger. It nets against
 * the org's accrued usage and booked charges (the next pull is smaller); what it cannot net is
 * shown as owed on-chain. Run again with the same `--key`, it prints the first outcome.
 */
export function refundCommand(program: Command) {
  program
    .command('refund')
    .description('refund a charge or charged usage lines (nets against the next pull)')
    .argument('[charge-id]', 'the charge to refund')
    .option(
      '--usage <ids>',
      'usage line ids instead of a charge (comma-separated), each refunded whole',
    )
    .option('--amount <usd>', 'part of the charge, in dollars (default: all that is left of it)')
    .requiredOption('--reason <text>', 'why (shown to the owner on the ledger)')
    .requiredOption(
      '--key <key>',
      'idempotency key, permanent: a retry with it applies nothing twice',
    )
    .option('--actor <name>', 'who gives it, for the record', process.env.USER ?? 'operator')
    .option('--json', 'machine-readable output')
    .action(
      async (
        chargeId: string | undefined,
        opts: {
          usage?: string
          amount?: string
          reason: string
          key: string
          actor: string
          json?: boolean
        },
      ) => {
        if ((chargeId === undefined) === (opts.usage === undefined))
          throw new ValidationError('give a charge id, or --usage <ids>')
        const config = loadConfig()
        const { db, close } = await connectDatabase(config)
        try {
          const r = await refund(db, {
            chargeId,
            usageIds: opts.usage?.split(',').map((s) => s.trim()),
            amount: opts.amount === undefined ? undefined : microsOfUsd(opts.amount),
            reason: opts.reason,
            actor: opts.actor,
            idempotencyKey: opts.key,
          })
          if (opts.json) return printJson(r)
          printFields([
            ['refund', `${r.refundId}${r.replayed ? ' (already given: first outcome)' : ''}`],
            ['org', r.orgId],
            ['of', r.chargeId ? `charge ${r.chargeId}` : `usage ${r.usageIds.join(', ')}`],
            ['amount', formatUsd(BigInt(r.amountMicros))],
            ['netted (next pull smaller)', formatUsd(BigInt(r.nettedMicros))],
            ['owed on-chain', formatUsd(BigInt(r.owedOnchainMicros))],
          ])
        } finally {
          await close()
        }
      },
    )
}
