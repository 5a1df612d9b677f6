import { type Address, isAddressEqual } from 'viem'
import { collectorAbi, usdcAbi } from '../chain/abis.js'
import { type LedgerMismatch, reconcileLedger } from '../ledger/index.js'
import { subscriptionKey } from '../subscriptions/typedData.js'
import type { SettlementContext } from './context.js'

/**
 * Compares the ledger with the chain, to the micro-credit: for every subscription, what the
 * ledger says was drawn, what the mirrored payment history holds, and what the collector
 * itself reports as collected (`totalCollected`), and what the token's `Transfer` events moved
 * from the owner to the payee in the collector's transactions; plus every ledger-internal check
 * (`reconcileLedger`). Returns each difference; none means the books match the chain.
 */
const usdcTransfer = usdcAbi.find(
  (x): x is Extract<(typeof usdcAbi)[number], { type: 'event'; name: 'Transfer' }> =>
    x.type === 'event' && x.name === 'Transfer',
)!

const transfersToPayee = (ctx: SettlementContext, from?: Address) =>
  ctx.operator.getLogs({
    address: ctx.deployment.usdc,
    event: usdcTransfer,
    args: { from, to: ctx.deployment.payee },
    fromBlock: BigInt(ctx.deployment.blocks.collector ?? 0),
    toBlock: 'latest',
  })

export async function reconcileWithChain(
  ctx: SettlementContext,
  p: { orgId?: string } = {},
): Promise<LedgerMismatch[]> {
  const out = await reconcileLedger(ctx.db, p)
  const subs = await ctx.db.$client<
    { id: string; org_id: string; drawn: bigint; history: bigint; owner: string | null }[]
  >`
    select s.id, s.org_id, s.drawn, s.owner,
      coalesce((select sum(h.amount) from payment_history h
        where h.subscription_id = s.id and h.event = 'Collected' and h.chain_id = ${ctx.deployment.chainId}), 0)::int8 as history
    from subscriptions s
    where s.owner is not null and (${p.orgId ?? null}::uuid is null or s.org_id = ${p.orgId ?? null}::uuid)
    order by s.org_id, s.id`
  let toPayee: Awaited<ReturnType<typeof transfersToPayee>> | undefined
  for (const s of subs) {
    const onChain = await ctx.operator.readContract({
      address: ctx.deployment.collector!,
      abi: collectorAbi,
      functionName: 'getSubscription',
      args: [subscriptionKey(s.id)],
    })
    const total = BigInt(onChain.totalCollected)
    if (total !== s.drawn) {
      out.push({
        orgId: s.org_id,
        check: `drawn = collector totalCollected (${s.id})`,
        expected: total.toString(),
        actual: s.drawn.toString(),
      })
    }
    if (s.owner) {
      // The token's own record: Transfer(owner → payee) in the transactions that collected.
      const txs = new Set(
        (
          await ctx.db.$client<{ tx_hash: string }[]>`
            select distinct tx_hash from payment_history
            where subscription_id = ${s.id} and event = 'Collected' and chain_id = ${ctx.deployment.chainId}`
        ).map((r) => r.tx_hash.toLowerCase()),
      )
      let transferred = 0n
      if (txs.size > 0) {
        // Many subscriptions: one read of every transfer to the payee; one: only its owner's.
        if (subs.length > 1 && !toPayee) toPayee = await transfersToPayee(ctx)
        const logs = toPayee
          ? toPayee.filter((l) => isAddressEqual(l.args.from!, s.owner as Address))
          : await transfersToPayee(ctx, s.owner as Address)
        for (const l of logs)
          if (txs.has(l.transactionHash.toLowerCase())) transferred += l.args.value ?? 0n
      }
      if (transferred !== s.history) {
        out.push({
          orgId: s.org_id,
          check: `payment history = USDC Transfer events to the payee (${s.id})`,
          expected: transferred.toString(),
          actual: s.history.toString(),
        })
      }
    }
    if (total !== s.history) {
      out.push({
        orgId: s.org_id,
        check: `payment history = collector totalCollected (${s.id})`,
        expected: total.toString(),
        actual: s.history.toString(),
      })
    }
  }
  return out
}
