import type { Command } from 'commander'
import { loadConfig } from '../../config/index.js'
import { settlementContextFor } from '../../settlement/context.js'
import { indexChain } from '../../settlement/indexChain.js'
import { reconcileWithChain } from '../../settlement/reconcileWithChain.js'
import { connectChain, connectDatabase } from '../connect.js'
import { printJson, printTable } from '../output.js'

/** `tollgate reconcile`: the ledger against the chain, to the micro-credit; exit 1 on any difference. */
export function reconcileCommand(program: Command) {
  program
    .command('reconcile')
    .description('compare the ledger with the chain per org; exits 1 on any difference')
    .option('--org <id>', 'one org only')
    .option('--json', 'machine-readable output')
    .action(async (opts: { org?: string; json?: boolean }) => {
      const config = loadConfig()
      const { db, close } = await connectDatabase(config)
      try {
        const chain = await connectChain(config)
        const ctx = settlementContextFor(config, db, chain)
        await indexChain(ctx)
        const mismatches = await reconcileWithChain(ctx, { orgId: opts.org })
        if (opts.json) printJson({ ok: mismatches.length === 0, mismatches })
        else if (mismatches.length === 0) process.stdout.write('ok: the ledger matches the chain\n')
        else {
          printTable(
            ['org', 'check', 'expected', 'actual'],
            mismatches.map((m) => [m.orgId, m.check, m.expected, m.actual]),
            [2, 3],
          )
        }
        process.exitCode = mismatches.length === 0 ? 0 : 1
      } finally {
        await close()
      }
    })
}
