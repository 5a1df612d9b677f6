import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { reconcileWithChain } from '../../settlement/reconcileWithChain.js'
import { connectDatabase, connectReader } from '../connect.js'
import { idArgument } from '../idArgument.js'
import { printJson, printTable } from '../output.js'

/**
 * `tollgate reconcile`: the ledger against the chain, row by row and to the micro-credit; exit 1
 * on any difference, naming each row. Read-only: it needs no operator key and writes nothing
 * (not even the indexer's mirror, which it checks).
 */
export function reconcileCommand(program: Command) {
  program
    .command('reconcile')
    .description(
      'compare the ledger with the chain row by row (read-only); exits 1 on any difference',
    )
    .option('--org <id>', 'one org only', idArgument)
    .option('--json', 'machine-readable output')
    .action(async (opts: { org?: string; json?: boolean }) => {
      const config = loadConfig()
      const { db, close } = await connectDatabase(config)
      try {
        const chain = await connectReader(config)
        const mismatches = await reconcileWithChain(
          { db, client: chain.reader, deployment: chain.deployment },
          { orgId: opts.org },
        )
        if (opts.json) printJson({ ok: mismatches.length === 0, mismatches })
        else if (mismatches.length === 0) process.stdout.write('ok: the ledger matches the chain\n')
        else {
          const behind = mismatches.find((m) => m.chainBehind)
          if (behind)
            process.stdout.write(
              `${behind.check.startsWith('The chain') ? behind.check : `The chain is behind the ledger (${behind.check}).`}\n\n`,
            )
          printTable(
            ['table', 'id', 'field', 'ledger', 'chain / entries', 'org', 'check'],
            mismatches.map((m) => [
              m.table ?? '',
              m.id ?? '',
              m.field ?? '',
              m.actual,
              m.expected,
              m.orgId,
              m.check,
            ]),
            [3, 4],
          )
        }
        process.exitCode = mismatches.length === 0 ? 0 : 1
      } finally {
        await close()
      }
    })
}
