import type { Command } from 'commander'
import { createSigner } from '../../chain/clients.js'
import type { Config } from '../../config/index.js'
import { loadConfig } from '../../config/index.js'
import { ConfigError, ValidationError } from '../../core/errors.js'
import type { Db } from '../../db/client.js'
import { formatUsd, refund } from '../../ledger/index.js'
import { payRefundOnchain } from '../../settlement/payRefundOnchain.js'
import { connectDatabase, connectReader } from '../connect.js'
import { printFields, printJson } from '../output.js'
import { usdArgument } from '../usdArgument.js'

/**
 * `tollgate refund <charge-id> [--amount <usd>] --reason <text> --key <idempotency key>`, or
 * `tollgate refund --usage <id,id,...> ...`: an operator's refund, on the ledger. It nets against
 * the org's accrued usage and booked charges (the next pull is smaller); what it cannot net is
 * shown as owed on-chain — and, with `--onchain`, paid back from the payee wallet as a USDC
 * transfer (intent recorded first). Run again with the same `--key`, it prints the first outcome
 * and never pays twice.
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
    .option(
      '--onchain',
      'pay back what cannot be netted (the subscription ended) from the payee wallet (PAYEE_KEY), as a USDC transfer',
    )
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
          onchain?: boolean
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
            amount: opts.amount === undefined ? undefined : usdArgument(opts.amount),
            reason: opts.reason,
            actor: opts.actor,
            idempotencyKey: opts.key,
          })
          const paid =
            opts.onchain && r.owedOnchainMicros !== '0'
              ? await payBack(config, db, { orgId: r.orgId, idempotencyKey: opts.key })
              : undefined
          if (opts.json) return printJson(paid ? { ...r, onchain: paid } : r)
          printFields([
            ['refund', `${r.refundId}${r.replayed ? ' (already given: first outcome)' : ''}`],
            ['org', r.orgId],
            ['of', r.chargeId ? `charge ${r.chargeId}` : `usage ${r.usageIds.join(', ')}`],
            ['amount', formatUsd(BigInt(r.amountMicros))],
            ['netted (next pull smaller)', formatUsd(BigInt(r.nettedMicros))],
            ['owed on-chain', formatUsd(BigInt(r.owedOnchainMicros))],
            ...(paid
              ? [
                  [
                    'paid on-chain',
                    paid.status === 'paid'
                      ? `${paid.txHash} to ${paid.to}${paid.replayed ? ' (paid before)' : ''}`
                      : paid.status === 'failed'
                        ? `not paid: ${paid.reason} (run again to retry)`
                        : 'nothing owed',
                  ] as [string, string],
                ]
              : []),
          ])
          if (paid?.status === 'failed') process.exitCode = 1
        } finally {
          await close()
        }
      },
    )
}

/** Pays a refund's on-chain part from the payee wallet (its intent recorded first; once per key). */
async function payBack(config: Config, db: Db, p: { orgId: string; idempotencyKey: string }) {
  if (!config.chain.payeeKey)
    throw new ConfigError('PAYEE_KEY is required to pay a refund back on-chain')
  const { rpcUrl, deployment } = await connectReader(config)
  const payee = await createSigner(rpcUrl, config.chain.payeeKey.reveal())
  return await payRefundOnchain(
    { db, payee, deployment, confirmations: config.chain.confirmations },
    p,
  )
}
