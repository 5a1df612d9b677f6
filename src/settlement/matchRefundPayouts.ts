import { parseEventLogs } from 'viem'
import { usdcAbi } from '../chain/abis.js'
import { findReceipt } from '../chain/findReceipt.js'
import type { LedgerMismatch } from '../ledger/index.js'
import type { ReconcileContext } from './reconcileContext.js'

/**
 * Every refund paid back on-chain against the chain: its transaction must hold the token's
 * `Transfer` of exactly the amount owed, from the payee to the address recorded on the refund;
 * and its ledger carries one `refund` entry for it. Reads receipts only.
 */
export async function matchRefundPayouts(
  ctx: ReconcileContext,
  p: { orgId?: string },
): Promise<LedgerMismatch[]> {
  const org = p.orgId ?? null
  const paid = await ctx.db.$client<
    {
      id: string
      org_id: string
      owed_onchain: bigint
      payout_to: string
      payout_tx_hash: string | null
      entries: number
    }[]
  >`
    select r.id::text, r.org_id, r.owed_onchain, r.payout_to, r.payout_tx_hash,
      (select count(*) from ledger_entries e where e.org_id = r.org_id and e.kind = 'refund'
        and e.memo like 'refund ' || r.id || ' paid %')::int as entries
    from refunds r
    where r.payout_status = 'paid' and (${org}::uuid is null or r.org_id = ${org}::uuid)
    order by r.id`
  const out: LedgerMismatch[] = []
  for (const r of paid) {
    const diff = (field: string, check: string, expected: string, actual: string) =>
      out.push({ orgId: r.org_id, check, expected, actual, table: 'refunds', id: r.id, field })
    if (r.entries !== 1)
      diff('payout_status', 'a paid refund has one refund entry', '1', String(r.entries))
    if (!r.payout_tx_hash) {
      diff('payout_tx_hash', 'a paid refund names its transaction', '(a hash)', '(none)')
      continue
    }
    const receipt = await findReceipt(ctx.client, r.payout_tx_hash)
    if (receipt?.status !== 'success') {
      diff(
        'payout_tx_hash',
        'the refund transfer is on the chain',
        receipt ? 'reverted' : 'no such transaction',
        r.payout_tx_hash,
      )
      continue
    }
    const { usdc, payee } = ctx.deployment
    const transfers = parseEventLogs({
      abi: usdcAbi,
      eventName: 'Transfer',
      logs: receipt.logs.filter((l) => l.address.toLowerCase() === usdc.toLowerCase()),
    }).filter((t) => t.args.from?.toLowerCase() === payee.toLowerCase())
    const match = transfers.find((t) => t.args.to?.toLowerCase() === r.payout_to.toLowerCase())
    if (!match)
      diff(
        'payout_to',
        'the transaction holds a Transfer from the payee to the refund’s address',
        transfers.map((t) => t.args.to).join(',') || 'no Transfer from the payee',
        r.payout_to,
      )
    else if (match.args.value !== BigInt(r.owed_onchain))
      diff(
        'owed_onchain',
        'the refund = the Transfer from the payee',
        String(match.args.value),
        String(r.owed_onchain),
      )
  }
  return out
}
