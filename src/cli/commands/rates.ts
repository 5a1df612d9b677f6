import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { formatUsd, parseRateCard, type RateCard, unitPrice } from '../../ledger/index.js'
import { exitCodes, printJson, printTable } from '../output.js'

function rows(card: RateCard) {
  return Object.entries(card.prices)
    .sort(([, a], [, b]) => (a === b ? 0 : a > b ? -1 : 1))
    .map(([action, micros]) => ({ action, micros, usd: formatUsd(micros) }))
}

/** `tollgate rates show|check FILE`: the rate card in force, and a check before deploying a new one. */
export function ratesCommand(program: Command) {
  const rates = program.command('rates').description('the rate card')
  rates
    .command('show')
    .description('print the rate card in force (RATE_CARD_PATH)')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const card = loadConfig().rateCard
      if (opts.json) return printJson({ version: card.version, prices: rows(card) })
      process.stdout.write(`rate card ${card.version} (reads are free and not listed)\n`)
      printTable(
        ['action', 'micro-credits', 'price'],
        rows(card).map((r) => [r.action, r.micros.toString(), r.usd]),
        [1, 2],
      )
    })
  rates
    .command('check <file>')
    .description('validate a rate card file before deploying it; exit 1 when it is invalid')
    .option('--json', 'machine-readable output')
    .option('--actions <list>', 'comma-separated actions that must be priced')
    .action((file: string, opts: { json?: boolean; actions?: string }) => {
      try {
        const card = parseRateCard(JSON.parse(readFileSync(file, 'utf8')))
        const required = (opts.actions ?? Object.keys(loadConfig().rateCard.prices).join(','))
          .split(',')
          .filter(Boolean)
        const missing = required.filter((a) => unitPrice(card, a) === undefined)
        const ok = missing.length === 0
        if (opts.json)
          printJson({
            ok,
            version: card.version,
            actions: Object.keys(card.prices).length,
            missing,
          })
        else if (ok)
          process.stdout.write(
            `ok: rate card ${card.version}, ${Object.keys(card.prices).length} priced actions\n`,
          )
        else
          process.stdout.write(
            `invalid: rate card ${card.version} has no price for: ${missing.join(', ')}\n`,
          )
        process.exitCode = ok ? exitCodes.ok : exitCodes.failure
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        if (opts.json) printJson({ ok: false, error: reason })
        else process.stdout.write(`invalid: ${reason}\n`)
        process.exitCode = exitCodes.failure
      }
    })
}
