import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { ValidationError } from '../../core/errors.js'
import { formatUsd, type PlanView, setPlan, showPlan } from '../../ledger/index.js'
import { connectDatabase } from '../connect.js'
import { printJson } from '../output.js'
import { usdArgument } from '../usdArgument.js'

function print(orgId: string, p: PlanView, asJson?: boolean) {
  if (asJson)
    return printJson({
      org_id: orgId,
      included_monthly_micros: p.includedMonthlyMicros?.toString() ?? null,
      used_micros: p.usedMicros.toString(),
      remaining_micros: p.remainingMicros.toString(),
      window_start: p.windowStart.toISOString(),
      renews_at: p.renewsAt.toISOString(),
    })
  if (p.includedMonthlyMicros === null) return console.log(`org ${orgId}: no plan`)
  console.log(
    `org ${orgId}: included this month ${formatUsd(p.usedMicros)} of ${formatUsd(p.includedMonthlyMicros)} used, ${formatUsd(p.remainingMicros)} left, renews ${p.renewsAt.toISOString()}`,
  )
}

/** `tollgate plan set|show --org <id>`: an org's included monthly allowance (docs/plans.md). */
export function planCommand(program: Command) {
  const plan = program
    .command('plan')
    .description('an org’s plan: the allowance included each UTC calendar month')
  plan
    .command('set')
    .description(
      'set the dollars included each month, drawn after the signup credit and before the prepaid balance or anything billable',
    )
    .requiredOption('--org <id>', 'organization id')
    .option('--usd <amount>', 'included each month, in dollars, e.g. 1 or 2.50')
    .option('--none', 'remove the plan')
    .option('--json', 'machine-readable output')
    .action(async (opts: { org: string; usd?: string; none?: boolean; json?: boolean }) => {
      if ((opts.usd === undefined) === !opts.none)
        throw new ValidationError('give exactly one of --usd <amount> and --none')
      const { db, close } = await connectDatabase(loadConfig())
      try {
        const p = await setPlan(db, {
          orgId: opts.org,
          includedMonthlyMicros: opts.none ? null : usdArgument(opts.usd!),
        })
        print(opts.org, p, opts.json)
      } finally {
        await close()
      }
    })
  plan
    .command('show')
    .description('the plan: included each month, used this month, left, when it renews')
    .requiredOption('--org <id>', 'organization id')
    .option('--json', 'machine-readable output')
    .action(async (opts: { org: string; json?: boolean }) => {
      const { db, close } = await connectDatabase(loadConfig())
      try {
        print(opts.org, await showPlan(db, { orgId: opts.org }), opts.json)
      } finally {
        await close()
      }
    })
}
