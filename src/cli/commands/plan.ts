import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { ValidationError } from '../../core/errors.js'
import { formatUsd, type PlanView, setPlan, showPlan } from '../../ledger/index.js'
import { connectDatabase } from '../connect.js'
import { idArgument } from '../idArgument.js'
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
      included_actions: Object.fromEntries(
        p.units.map((u) => [
          u.action,
          { included: u.included, used: u.used, remaining: u.remaining },
        ]),
      ),
    })
  if (p.includedMonthlyMicros === null && p.units.length === 0)
    return console.log(`org ${orgId}: no plan`)
  const renews = `renews ${p.renewsAt.toISOString()}`
  if (p.includedMonthlyMicros !== null)
    console.log(
      `org ${orgId}: included this month ${formatUsd(p.usedMicros)} of ${formatUsd(p.includedMonthlyMicros)} used, ${formatUsd(p.remainingMicros)} left, ${renews}`,
    )
  for (const u of p.units)
    console.log(
      `org ${orgId}: ${u.action} included this month ${u.used} of ${u.included} used, ${u.remaining} left, ${renews}`,
    )
}

/** `--actions search=1000,summarize=50`: units of each action included a month. */
function actionsArgument(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const part of text.split(',')) {
    const m = /^([^=\s]+)=(\d{1,10})$/.exec(part.trim())
    if (!m) throw new ValidationError(`--actions: "${part}" is not action=units`)
    out[m[1]!] = Number(m[2])
  }
  return out
}

/** `tollgate plan set|show --org <id>`: an org's included monthly allowance (docs/plans.md). */
export function planCommand(program: Command) {
  const plan = program
    .command('plan')
    .description('an org’s plan: the allowance included each UTC calendar month')
  plan
    .command('set')
    .description(
      'set the plan (it replaces the one before): dollars included each month, drawn after the signup credit and before the prepaid balance or anything billable, and units of named actions, drawn first by those actions',
    )
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--usd <amount>', 'included each month, in dollars, e.g. 1 or 2.50')
    .option(
      '--actions <list>',
      'units of actions included each month, e.g. search=1000,summarize=50',
    )
    .option('--none', 'remove the plan')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        org: string
        usd?: string
        actions?: string
        none?: boolean
        json?: boolean
      }) => {
        const some = opts.usd !== undefined || opts.actions !== undefined
        if (some === !!opts.none)
          throw new ValidationError('give --usd <amount> and/or --actions <list>, or --none')
        const actions = opts.actions === undefined ? null : actionsArgument(opts.actions)
        const config = loadConfig()
        const { db, close } = await connectDatabase(config)
        try {
          const p = await setPlan(db, {
            orgId: opts.org,
            includedMonthlyMicros: opts.usd === undefined ? null : usdArgument(opts.usd),
            includedActions: actions,
            rateCard: config.rateCard,
          })
          print(opts.org, p, opts.json)
        } finally {
          await close()
        }
      },
    )
  plan
    .command('show')
    .description('the plan: included each month, used this month, left, when it renews')
    .requiredOption('--org <id>', 'organization id', idArgument)
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
