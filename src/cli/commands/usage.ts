import type { Command } from 'commander'
import { ZodError } from 'zod'
import { type UsageReport, usageReport } from '../../api/usageRoutes.js'
import { loadConfig } from '../../config/index.js'
import { ValidationError } from '../../core/errors.js'
import { formatUsd } from '../../ledger/index.js'
import { connectDatabase } from '../connect.js'
import { idArgument } from '../idArgument.js'
import { exitCodes, printFields, printJson, printTable } from '../output.js'

type Money = { micros: string; usd: string } | null
type Totals = UsageReport['totals']

const BAR = 24
/** Dollars from the report's exact micro-credits, through the ledger's own formatter. */
const usd = (m: Money, none = 'none') => (m === null ? none : formatUsd(BigInt(m.micros)))
const micros = (m: Money) => (m === null ? 0n : BigInt(m.micros))
/** A whole percentage of `part` in `whole`, rounded down, in integers. */
const percent = (part: bigint, whole: bigint) => `${(part * 100n) / whole}%`
const cells = (t: Totals) => [String(t.calls), usd(t.total), usd(t.voucher)]

/** A day's spend as a bar of `#`, its length in proportion to the period's busiest day. */
function bar(total: bigint, most: bigint) {
  if (total === 0n || most === 0n) return ''
  const n = Number((total * BigInt(BAR) + most - 1n) / most)
  return '#'.repeat(n)
}

/** The report in words and small tables: what `GET /v1/billing/usage` answers, for people. */
function printUsage(u: UsageReport) {
  const w = u.window
  const c = u.cap
  const limit = micros(w.monthly_limit)
  const cap = micros(c.lifetime_cap)
  const owed = micros(c.booked) + micros(c.accrued)
  printFields([
    ['period', `${u.period.kind}: ${u.period.from} to ${u.period.to} (UTC days)`],
    [
      'total',
      `${usd(u.totals.total)} over ${u.totals.calls} calls (${usd(u.totals.billable)} billed, ${usd(u.totals.voucher)} from signup credit)`,
    ],
    [
      'this window',
      w.start && w.end
        ? `${w.start.slice(0, 10)} to ${w.end.slice(0, 10)}: ${usd(w.spent)} spent${
            w.monthly_limit && limit > 0n
              ? ` of the ${usd(w.monthly_limit)} monthly limit (${percent(micros(w.spent), limit)})`
              : ', no monthly limit'
          }`
        : 'none (not authorized yet)',
    ],
    [
      'lifetime cap',
      c.lifetime_cap && cap > 0n
        ? `${usd(c.lifetime_cap)}: ${usd(c.drawn)} collected, ${formatUsd(owed)} owed, ${usd(c.remaining)} left (${percent(micros(c.drawn) + owed, cap)} drawn down)`
        : 'none (not authorized yet)',
    ],
    ['signup credit left', usd(u.signup_credit)],
  ])
  let most = 0n
  for (const d of u.days) if (micros(d.total) > most) most = micros(d.total)
  process.stdout.write('\nSpend per day\n')
  printTable(
    ['day', 'calls', 'spend', 'from credit', ''],
    u.days.map((d) => [d.day, ...cells(d), bar(micros(d.total), most)]),
    [1, 2, 3],
  )
  process.stdout.write('\nBy action\n')
  printTable(
    ['action', 'tier', 'calls', 'spend', 'from credit'],
    u.by_action.map((a) => [a.action, a.tier, ...cells(a)]),
    [2, 3, 4],
  )
  process.stdout.write('\nBy tier\n')
  printTable(
    ['tier', 'calls', 'spend', 'from credit'],
    u.by_tier.map((t) => [t.tier, ...cells(t)]),
    [1, 2, 3],
  )
  process.stdout.write('\nBy API key\n')
  printTable(
    ['key', 'label', 'calls', 'spend', 'from credit'],
    u.by_key.map((k) => [k.prefix ?? '-', k.label ?? '', ...cells(k)]),
    [2, 3, 4],
  )
}

/** `tollgate billing usage --org <id> [--period 7d|30d|window|custom --from --to] [--json]`. */
export function usageCommand(billing: Command) {
  billing
    .command('usage')
    .description(
      'usage over a period: spend per day, against the monthly limit and the lifetime cap, by action, tier and API key (what GET /v1/billing/usage answers)',
    )
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--period <period>', '7d, 30d, window (the billing window) or custom', '30d')
    .option('--from <day>', 'with --period custom: the first UTC day, YYYY-MM-DD')
    .option('--to <day>', 'with --period custom: the last UTC day, YYYY-MM-DD')
    .option('--json', 'machine-readable output: the endpoint’s JSON')
    .action(
      async (opts: { org: string; period: string; from?: string; to?: string; json?: boolean }) => {
        const config = loadConfig()
        const { db, close } = await connectDatabase(config)
        try {
          const query = { period: opts.period, from: opts.from, to: opts.to }
          const report = await usageReport({ db, config }, opts.org, query).catch(
            (error: unknown) => {
              if (!(error instanceof ValidationError || error instanceof ZodError)) throw error
              process.stderr.write(`billing usage: ${usageProblem(error)}\n`)
              process.exitCode = exitCodes.usage
              return null
            },
          )
          if (report === null) return
          if (opts.json) return printJson(report)
          printUsage(report)
        } finally {
          await close()
        }
      },
    )
}

/** A refused query in one line: the option and what is wrong with it. */
function usageProblem(error: ValidationError | ZodError) {
  if (error instanceof ValidationError) return error.message
  return error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')
}
