import { parseEventLogs } from 'viem'
import { collectorAbi } from '../chain/abis.js'
import { findReceipt } from '../chain/findReceipt.js'
import type { LedgerMismatch } from '../ledger/index.js'
import { unpackCollected } from './context.js'
import type { ReconcileContext } from './reconcileContext.js'

/**
 * Every failed or written-off charge that was sent: its transaction, if the chain has it, must
 * not hold a `Collected` of that subscription and seq — money the ledger says it never took.
 * (A failed charge's transaction may be gone or replaced; only what the chain holds is compared.)
 */
export async function matchUncollectedCharges(
  ctx: ReconcileContext,
  p: { orgId?: string },
): Promise<LedgerMismatch[]> {
  const org = p.orgId ?? null
  const charges = await ctx.db.$client<
    {
      id: bigint
      org_id: string
      subscription_id: string
      seq: number
      status: string
      tx_hash: string
    }[]
  >`
    select id, org_id, subscription_id, seq, status, tx_hash from charges
    where status in ('failed', 'written_off') and tx_hash is not null
      and (${org}::uuid is null or org_id = ${org}::uuid)
    order by id`
  const out: LedgerMismatch[] = []
  const receipts = []
  for (let i = 0; i < charges.length; i += 8)
    receipts.push(
      ...(await Promise.all(
        charges.slice(i, i + 8).map((c) => findReceipt(ctx.client, c.tx_hash)),
      )),
    )
  for (const [k, c] of charges.entries()) {
    const receipt = receipts[k]
    if (receipt?.status !== 'success') continue
    const collected = parseEventLogs({
      abi: collectorAbi,
      eventName: 'Collected',
      logs: receipt.logs.filter(
        (l) => l.address.toLowerCase() === ctx.deployment.collector!.toLowerCase(),
      ),
    }).find(
      (e) =>
        e.args.subscription.slice(-32).toLowerCase() === c.subscription_id.toLowerCase() &&
        unpackCollected(e.args.packed).seq === c.seq,
    )
    if (collected)
      out.push({
        orgId: c.org_id,
        check: `a ${c.status} charge was not collected in its transaction`,
        expected: `collected ${unpackCollected(collected.args.packed).amount}`,
        actual: c.status,
        table: 'charges',
        id: c.id.toString(),
        field: 'status',
      })
  }
  return out
}
