import type { Command } from 'commander'
import { formatUsd } from '../../ledger/index.js'
import { printFields, printJson } from '../output.js'
import { sendPatiently, simulate } from '../simulate.js'

/** `tollgate simulate`: realistic agent traffic through the HTTP API, with a live progress line. */
export function simulateCommand(program: Command) {
  program
    .command('simulate')
    .description(
      'drive simulated agents through the metered API, then print what was metered and billed',
    )
    .requiredOption('--key <key>', 'an org API key (tollgate dev prints the demo org’s)')
    .option('--api <url>', 'the API base URL', 'http://127.0.0.1:4000')
    .option('--agents <n>', 'concurrent agents', '4')
    .option('--duration <seconds>', 'how long they work', '10')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        key: string
        api: string
        agents: string
        duration: string
        json?: boolean
      }) => {
        const tty = process.stdout.isTTY && !opts.json
        const stats = await simulate({
          api: opts.api,
          key: opts.key,
          agents: Number(opts.agents),
          durationSeconds: Number(opts.duration),
          onProgress: (s) => {
            if (tty)
              process.stdout.write(
                `\r${s.requests} requests, ${s.metered} metered (${formatUsd(s.meteredMicros)}), ${s.retries} retries, ${s.rateLimited} waits at the rate limit   `,
              )
          },
        })
        if (tty) process.stdout.write('\n')
        // The agents may have left the key at its rate limit: these wait their turn too.
        const read = async (path: string) =>
          (await sendPatiently(() =>
            fetch(`${opts.api}${path}`, { headers: { authorization: `Bearer ${opts.key}` } }),
          ))!.json()
        const billing = (await read('/v1/billing')) as Record<string, unknown>
        const payments = (await read('/v1/billing/payments')) as { payments?: unknown[] }
        if (opts.json)
          return printJson({ simulation: stats, billing, payments: payments.payments ?? [] })
        printFields([
          ['requests', String(stats.requests)],
          ['metered', `${stats.metered} actions, ${formatUsd(stats.meteredMicros)}`],
          ['retries (not charged again)', String(stats.retries)],
          ['free polls', String(stats.emptyPolls)],
          ['refused (402)', String(stats.refused)],
          ['rate-limited (429, waited and sent again)', String(stats.rateLimited)],
          [
            'errors',
            `${stats.errors}${Object.entries(stats.errorsBy)
              .map(([what, n]) => `, ${n}× ${what}`)
              .join('')}`,
          ],
          ['on-chain payments so far', String(payments.payments?.length ?? 0)],
        ])
        if (stats.errors > 0) process.exitCode = 1
      },
    )
}
