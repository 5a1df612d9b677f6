import type { X402Context } from './context.js'
import { creditPayment, type OpenSignupOrg } from './creditPayment.js'
import { resolvePayment } from './resolvePayment.js'

export type CreditSettledPaymentsReturnType = {
  /** Payments credited by this pass (their request died between settle and credit). */
  credited: bigint[]
  /** Payments still open: in flight, or whose chain state could not be read now. */
  open: bigint[]
}

/**
 * The recovery pass (worker, and once at start): every payment a request left behind is
 * resolved from the chain — never sent by this pass — and every settled one not yet credited
 * is credited, once. A process killed between settle and credit therefore leaves money
 * uncredited only until the next pass.
 *
 * @example
 * const { credited } = await creditSettledPayments(ctx, openOrg)
 */
export async function creditSettledPayments<T extends { orgId: string }>(
  ctx: X402Context,
  openOrg: OpenSignupOrg<T>,
): Promise<CreditSettledPaymentsReturnType> {
  const rows = await ctx.db.$client<{ id: string; status: string }[]>`
    select id, status from x402_payments
    where status in ('recorded', 'settling') or (status = 'settled' and credited_at is null)
    order by id`
  const out: CreditSettledPaymentsReturnType = { credited: [], open: [] }
  for (const r of rows) {
    const id = BigInt(r.id)
    try {
      const p = r.status === 'settled' ? undefined : await resolvePayment(ctx, id)
      if (p && p.status !== 'settled') {
        if (p.status !== 'failed') out.open.push(id)
        continue
      }
      const { payment } = await creditPayment(ctx, id, openOrg)
      if (payment.creditedAt !== null) out.credited.push(id)
    } catch (e) {
      ctx.log?.warn('x402 payment not resolved yet', { payment: r.id, error: String(e) })
      out.open.push(id)
    }
  }
  return out
}
