import { randomUUID } from 'node:crypto'
import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import {
  clearAutoTopUp,
  formatUsd,
  requestTopUp,
  setAutoTopUp,
  TopUpRefusedError,
} from '../../ledger/index.js'
import { signManageToken } from '../../web/session.js'
import { connectDatabase } from '../connect.js'
import { idArgument } from '../idArgument.js'
import { printFields, printJson } from '../output.js'
import { usdArgument } from '../usdArgument.js'

/** `tollgate billing top-up <usd>` and `tollgate billing auto-top-up`. */
export function topUpCommands(billing: Command) {
  billing
    .command('top-up <usd>')
    .description(
      'buy prepaid balance now: pulled from the owner’s wallet with their permit (no permit yet: prints the manage link where the owner signs)',
    )
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--key <key>', 'idempotency key: the same key again returns the first top-up')
    .option('--json', 'machine-readable output')
    .action(async (text: string, opts: { org: string; key?: string; json?: boolean }) => {
      const amount = usdArgument(text)
      const config = loadConfig()
      const { db, close } = await connectDatabase(config)
      try {
        const idempotencyKey = opts.key ?? `cli-${randomUUID()}`
        const packages = config.billing.prepaidPackages
        const out = await requestTopUp(db, {
          orgId: opts.org,
          amount,
          idempotencyKey,
          packages,
        }).catch((error: unknown) => {
          if (error instanceof TopUpRefusedError && error.details?.reason === 'no_permit')
            return error.details.subscription_id as string
          throw error
        })
        if (typeof out === 'string') {
          const url = `${config.product.publicBaseUrl}/s/${out}?t=${signManageToken(config, out, 'link', 900)}`
          if (opts.json) return printJson({ status: 'needs_permit', manage_url: url })
          process.stdout.write(
            `No permit to pull from yet: the owner signs one here (the link lasts 15 minutes), then run this again.\n${url}\n`,
          )
          return
        }
        const t = out.topUp
        if (opts.json) return printJson({ ...t, replayed: out.replayed, packages })
        printFields([
          ['top-up', t.id],
          ['amount', formatUsd(t.amount)],
          [
            'bonus',
            t.bonus > 0n ? `${formatUsd(t.bonus)} (the package’s, never redeemable)` : 'none',
          ],
          [
            'packages',
            packages.length === 0
              ? 'none'
              : packages
                  .map((p) => `buy ${formatUsd(p.price)}, get ${formatUsd(p.bonus)} free`)
                  .join('; '),
          ],
          ['status', `${t.status}${out.replayed ? ' (requested before with this key)' : ''}`],
          ['key', idempotencyKey],
          ['next', 'the settlement worker pulls it and credits the prepaid balance'],
        ])
      } finally {
        await close()
      }
    })
  billing
    .command('auto-top-up')
    .description('when the prepaid balance falls below --below-usd, pull --usd (one at a time)')
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--below-usd <amount>', 'the threshold in dollars')
    .option('--usd <amount>', 'what each top-up pulls, in dollars')
    .option('--off', 'turn the auto top-up off')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        org: string
        belowUsd?: string
        usd?: string
        off?: boolean
        json?: boolean
      }) => {
        if (!opts.off && (opts.belowUsd === undefined || opts.usd === undefined)) {
          process.stderr.write('billing auto-top-up: give --below-usd and --usd, or --off\n')
          process.exitCode = 2
          return
        }
        const { db, close } = await connectDatabase(loadConfig())
        try {
          if (opts.off) {
            const removed = await clearAutoTopUp(db, { orgId: opts.org })
            if (opts.json) return printJson({ removed })
            printFields([['auto top-up', removed ? 'off' : 'was not on']])
            return
          }
          const set = await setAutoTopUp(db, {
            orgId: opts.org,
            threshold: usdArgument(opts.belowUsd!),
            amount: usdArgument(opts.usd!),
            by: 'cli',
          })
          if (opts.json) return printJson(set)
          printFields([
            ['auto top-up', `below ${formatUsd(set.threshold)}, pull ${formatUsd(set.amount)}`],
          ])
        } finally {
          await close()
        }
      },
    )
}
