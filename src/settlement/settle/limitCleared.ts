import { collectorAbi } from '../../chain/abis.js'
import { subscriptionKey } from '../../subscriptions/typedData.js'
import type { SettlementContext } from '../context.js'

/**
 * Charges refused for the owner's per-window limit (the owner cut it on-chain after the usage was
 * metered) that the collector would take now, each with the window to send it in: the chain's
 * current one. Such a charge waits — it could only be refused again, for gas — until it fits
 * what is left of the limit in the current window: in a later window (it is carried there), or
 * in the same one after the owner raised the limit. One larger than the limit itself waits for
 * the owner to raise it. Read from the collector, the only judge of the limit; only the first
 * such charge of a subscription (the later ones are held back behind it).
 *
 * @example
 * const fitting = await limitCleared(ctx, sent) // charge id → window
 */
export async function limitCleared(
  ctx: SettlementContext,
  sent: readonly string[],
): Promise<Map<string, number>> {
  const waiting = await ctx.db.$client<{ id: bigint; subscription_id: string; amount: bigint }[]>`
    select distinct on (c.subscription_id) c.id, c.subscription_id, c.amount
    from charges c join subscriptions s on s.id = c.subscription_id
    where s.state = 'active' and c.status = 'failed' and c.failure_reason = 'limit'
      and c.id <> all(${sent}::int8[])
    order by c.subscription_id, c.seq`
  const out = new Map<string, number>()
  if (waiting.length === 0) return out
  const { timestamp } = await ctx.operator.getBlock()
  await Promise.all(
    waiting.map(async (c) => {
      const s = await ctx.operator.readContract({
        address: ctx.deployment.collector!,
        abi: collectorAbi,
        functionName: 'getSubscription',
        args: [subscriptionKey(c.subscription_id)],
      })
      if (Number(s.status) !== 1 || s.period === 0) return
      const start = BigInt(s.start)
      const current = timestamp > start ? Number((timestamp - start) / BigInt(s.period)) : 0
      const spent = Number(s.lastWindow) === current ? s.collectedInWindow : 0n
      if (s.limit === 0n || spent + BigInt(c.amount) <= s.limit) out.set(c.id.toString(), current)
    }),
  )
  return out
}
