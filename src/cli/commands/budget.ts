import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { ValidationError } from '../../core/errors.js'
import {
  BUDGET_PERIODS,
  type BudgetView,
  clearBudget,
  formatUsd,
  setBudget,
  showBudgets,
} from '../../ledger/index.js'
import { connectDatabase } from '../connect.js'
import { idArgument } from '../idArgument.js'
import { printJson, printTable } from '../output.js'
import { usdArgument } from '../usdArgument.js'

type Period = (typeof BUDGET_PERIODS)[number]

function periodOf(text: string): Period {
  if (!(BUDGET_PERIODS as readonly string[]).includes(text))
    throw new ValidationError(`--period must be one of ${BUDGET_PERIODS.join(', ')}`)
  return text as Period
}

const json = (b: BudgetView) => ({
  scope: b.keyId === null ? 'org' : 'key',
  key_id: b.keyId,
  period: b.period,
  limit_micros: b.limitMicros.toString(),
  override: b.override && {
    limit_micros: b.override.limitMicros.toString(),
    until: b.override.until.toISOString(),
  },
  effective_micros: b.effectiveMicros.toString(),
  spent_micros: b.spentMicros.toString(),
  remaining_micros: b.remainingMicros.toString(),
  resets_at: b.resetsAt.toISOString(),
})

function print(list: BudgetView[], asJson?: boolean) {
  if (asJson) return printJson(list.map(json))
  if (list.length === 0) return console.log('no budgets')
  printTable(
    ['scope', 'period', 'limit', 'override', 'spent', 'remaining', 'resets at'],
    list.map((b) => [
      b.keyId ?? 'org',
      b.period,
      formatUsd(b.limitMicros),
      b.override
        ? `${formatUsd(b.override.limitMicros)} until ${b.override.until.toISOString()}`
        : '',
      formatUsd(b.spentMicros),
      formatUsd(b.remainingMicros),
      b.resetsAt.toISOString(),
    ]),
    [2, 4, 5],
  )
}

/** `tollgate budget set|show|clear --org <id> [--key <id>]`: spend budgets per key and org. */
export function budgetCommand(program: Command) {
  const budget = program
    .command('budget')
    .description('spend budgets of an org and its API keys, per UTC day, week or month')
  budget
    .command('set')
    .description(
      'set a budget on an API key (--key) or on the whole org; enforced as usage is metered',
    )
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--key <id>', 'the API key (agent) it is for; without it, the whole org', idArgument)
    .requiredOption('--period <period>', `one of ${BUDGET_PERIODS.join(', ')} (UTC calendar)`)
    .requiredOption('--usd <amount>', 'the limit in dollars, e.g. 3 or 2.50')
    .option('--override-usd <amount>', 'a temporary limit, until --until')
    .option('--until <time>', 'ISO time the override ends (then the limit is back by itself)')
    .option('--clear-override', 'remove an override')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        org: string
        key?: string
        period: string
        usd: string
        overrideUsd?: string
        until?: string
        clearOverride?: boolean
        json?: boolean
      }) => {
        if ((opts.overrideUsd === undefined) !== (opts.until === undefined))
          throw new ValidationError('--override-usd and --until go together')
        const { db, close } = await connectDatabase(loadConfig())
        try {
          const b = await setBudget(db, {
            orgId: opts.org,
            keyId: opts.key ?? null,
            period: periodOf(opts.period),
            limitMicros: usdArgument(opts.usd),
            override: opts.clearOverride
              ? null
              : opts.overrideUsd === undefined
                ? undefined
                : { limitMicros: usdArgument(opts.overrideUsd), until: new Date(opts.until!) },
            by: 'cli',
          })
          print([b], opts.json)
        } finally {
          await close()
        }
      },
    )
  budget
    .command('show')
    .description('each budget: limit, override, spent this window, remaining, reset time')
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--json', 'machine-readable output')
    .action(async (opts: { org: string; json?: boolean }) => {
      const { db, close } = await connectDatabase(loadConfig())
      try {
        print(await showBudgets(db, { orgId: opts.org }), opts.json)
      } finally {
        await close()
      }
    })
  budget
    .command('clear')
    .description('remove a budget')
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--key <id>', 'the API key; without it, the org’s own', idArgument)
    .requiredOption('--period <period>', BUDGET_PERIODS.join(', '))
    .action(async (opts: { org: string; key?: string; period: string }) => {
      const { db, close } = await connectDatabase(loadConfig())
      try {
        const removed = await clearBudget(db, {
          orgId: opts.org,
          keyId: opts.key ?? null,
          period: periodOf(opts.period),
        })
        console.log(removed ? 'removed' : 'there was no such budget')
      } finally {
        await close()
      }
    })
}
