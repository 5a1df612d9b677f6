import { collectorAbi } from '../../chain/abis.js'
import { subscriptionKey } from '../../subscriptions/typedData.js'
import type { SettlementContext } from '../context.js'

/**
 * Charges held for a seq the ledger will never collect (`seq_blocked`) whose turn came: the
 * collector's next seq is theirs now (an operator retired the one before). Only the first such
 * charge of a subscription; the later ones follow it.
 *
 * @example
 * const ids = await seqUnblocked(ctx, sent)
 */
export async function seqUnblocked(
  ctx: SettlementContext,
  sent: readonly string[],
): Promise<string[]> {
  const waiting = await ctx.db.$client<{ id: bigint; subscription_id: string; seq: number }[]>`
    select distinct on (c.subscription_id) c.id, c.subscription_id, c.seq
    from charges c join subscriptions s on s.id = c.subscription_id
    where s.state = 'active' and c.status = 'failed' and c.failure_reason = 'seq_blocked'
      and c.id <> all(${sent}::int8[])
    order by c.subscription_id, c.seq`
  const out: string[] = []
  await Promise.all(
    waiting.map(async (c) => {
      const last = await ctx.operator.readContract({
        address: ctx.deployment.collector!,
        abi: collectorAbi,
        functionName: 'lastSeq',
        args: [subscriptionKey(c.subscription_id)],
      })
      if (last + 1 === c.seq) out.push(c.id.toString())
    }),
  )
  return out
}
