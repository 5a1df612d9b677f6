import type { Command } from 'commander'
import { createOrg } from '../../api/createOrg.js'
import { createApiKey, revokeActiveApiKey } from '../../api/keys.js'
import { loadConfig } from '../../config/index.js'
import { formatUsd } from '../../ledger/index.js'
import { listPaymentHistory } from '../../settlement/listPaymentHistory.js'
import { signManageToken } from '../../web/session.js'
import { connectDatabase } from '../connect.js'
import { idArgument } from '../idArgument.js'
import { printFields, printJson, printTable } from '../output.js'

/** `tollgate org create`, `tollgate key create|list|revoke`, `tollgate billing history|manage-link`. */
export function orgCommands(program: Command) {
  const org = program.command('org').description('organizations')
  org
    .command('create')
    .description(
      'sign up an org: billing account with the signup credit, and a first API key (shown once)',
    )
    .requiredOption('--name <name>', 'org name')
    .requiredOption('--owner <address>', 'the owner’s (paying) wallet address')
    .option('--json', 'machine-readable output')
    .action(async (opts: { name: string; owner: string; json?: boolean }) => {
      const config = loadConfig()
      const { db, close } = await connectDatabase(config)
      try {
        const o = await createOrg(db, {
          name: opts.name,
          ownerAddress: opts.owner,
          signupCreditMicros: config.billing.signupCreditMicros,
          creditsPerOwner: config.billing.signupCreditsPerOwner,
        })
        const out = {
          org_id: o.orgId,
          subscription_id: o.subscriptionId,
          signup_credit_micros: o.signupCredit.toString(),
          api_key: o.apiKey,
          manage_url: `${config.product.publicBaseUrl}/s/${o.subscriptionId}`,
        }
        if (opts.json) return printJson(out)
        printFields([
          ['org', out.org_id],
          ['subscription', out.subscription_id],
          ['signup credit', formatUsd(o.signupCredit)],
          ['API key (shown once)', out.api_key],
          ['manage', out.manage_url],
        ])
      } finally {
        await close()
      }
    })

  const key = program.command('key').description('an org’s API keys (stored hashed)')
  key
    .command('create')
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--label <label>', 'what the key is for')
    .option('--json', 'machine-readable output')
    .action(async (opts: { org: string; label?: string; json?: boolean }) => {
      const { db, close } = await connectDatabase(loadConfig())
      try {
        const k = await createApiKey(db, { orgId: opts.org, label: opts.label })
        if (opts.json) return printJson({ id: k.id, key: k.key, prefix: k.prefix })
        printFields([
          ['id', k.id],
          ['key (shown once)', k.key],
        ])
      } finally {
        await close()
      }
    })
  key
    .command('list')
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--json', 'machine-readable output')
    .action(async (opts: { org: string; json?: boolean }) => {
      const { db, close } = await connectDatabase(loadConfig())
      try {
        const rows = await db.$client<
          {
            id: string
            prefix: string
            label: string | null
            created_at: Date
            revoked_at: Date | null
          }[]
        >`
          select id, prefix, label, created_at, revoked_at from api_keys where org_id = ${opts.org} order by created_at`
        if (opts.json) return printJson(rows)
        printTable(
          ['id', 'prefix', 'label', 'created', 'revoked'],
          rows.map((r) => [
            r.id,
            `${r.prefix}…`,
            r.label ?? '',
            r.created_at.toISOString(),
            r.revoked_at?.toISOString() ?? '',
          ]),
        )
      } finally {
        await close()
      }
    })
  key
    .command('revoke <id>')
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: { org: string; json?: boolean }) => {
      const { db, close } = await connectDatabase(loadConfig())
      try {
        const revoked = await revokeActiveApiKey(db, { orgId: opts.org, id })
        if (opts.json) printJson({ revoked })
        else process.stdout.write(revoked ? `revoked ${id}\n` : `no active key ${id} in that org\n`)
        process.exitCode = revoked ? 0 : 1
      } finally {
        await close()
      }
    })

  const billing = program.commands.find((c) => c.name() === 'billing')!
  billing
    .command('history')
    .description('on-chain payments (pulls, x402 top-ups, refunds paid back) with explorer links')
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--json', 'machine-readable output')
    .action(async (opts: { org: string; json?: boolean }) => {
      const { db, close } = await connectDatabase(loadConfig())
      try {
        const rows = await listPaymentHistory(db, { orgId: opts.org })
        if (opts.json) return printJson(rows)
        printTable(
          ['block', 'kind', 'seq', 'amount', 'transaction'],
          rows.map((r) => [
            r.blockNumber?.toString() ?? 'pending',
            r.kind,
            r.seq === null ? '' : String(r.seq),
            r.status === 'failed'
              ? `failed: ${r.failureReason}`
              : r.direction === 'to_owner'
                ? `+${formatUsd(r.amount)} back to ${r.recipient}`
                : formatUsd(r.amount),
            r.explorerUrl ?? r.txHash,
          ]),
          [0, 2, 3],
        )
      } finally {
        await close()
      }
    })
  billing
    .command('manage-link')
    .description('a short-lived link to the hosted manage page (15 minutes)')
    .requiredOption('--org <id>', 'organization id', idArgument)
    .option('--json', 'machine-readable output')
    .action(async (opts: { org: string; json?: boolean }) => {
      const config = loadConfig()
      const { db, close } = await connectDatabase(config)
      try {
        const [row] = await db.$client<
          { subscription_id: string }[]
        >`select subscription_id from billing_accounts where org_id = ${opts.org}`
        if (!row) throw new Error(`org ${opts.org} has no billing account`)
        const url = `${config.product.publicBaseUrl}/s/${row.subscription_id}?t=${signManageToken(config, row.subscription_id, 'link', 900)}`
        if (opts.json) printJson({ url, expires_in_seconds: 900 })
        else process.stdout.write(`${url}\n`)
      } finally {
        await close()
      }
    })
}
