import type { Db } from '../db/client.js'
import type { X402Context } from './context.js'
import { PaymentRefusedError } from './errors.js'
import { type Payment, paymentColumns, toPayment } from './paymentRow.js'
import type { DecodedPayment } from './verifyPayment.js'

/**
 * The payment this header is about, if we have seen it: the same authorization (token, payer,
 * nonce), or the same `payment-identifier` from the same payer — a retry that re-signed gets
 * the first payment back, and its new authorization is never sent.
 */
export async function findPayment(
  db: Db,
  ctx: Pick<X402Context, 'chainId' | 'token'>,
  d: DecodedPayment,
): Promise<Payment | undefined> {
  const sql = db.$client
  const [row] = await sql.unsafe(
    `select ${paymentColumns} from x402_payments
     where (chain_id = $1 and token = $2 and payer = $3 and nonce = $4)
        or ($5::text is not null and payer = $3 and payment_id = $5)
     order by id limit 1`,
    [ctx.chainId, ctx.token.toLowerCase(), d.payer.toLowerCase(), d.nonce, d.paymentId ?? null],
  )
  return row ? toPayment(row) : undefined
}

export type RecordPaymentParameters = {
  payment: DecodedPayment
  purpose: 'topup' | 'signup'
  /** The org a top-up credits (a sign-up's org is made at credit). */
  orgId: string | null
}

/**
 * Records a verified authorization BEFORE anything is sent (status `recorded`). The token's
 * nonce rule is the table's unique key, so two requests carrying one authorization record one
 * row: the second gets the first's. A top-up is bound to its org: the same authorization
 * presented for another org is refused.
 */
export async function recordPayment(
  ctx: X402Context,
  p: RecordPaymentParameters,
): Promise<Payment> {
  const d = p.payment
  const sql = ctx.db.$client
  const [row] = await sql.unsafe(
    `insert into x402_payments (chain_id, token, payer, payee, value, valid_after, valid_before,
       nonce, signature, payment_id, purpose, org_id, recorded_block)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict do nothing
     returning ${paymentColumns}`,
    [
      ctx.chainId,
      ctx.token.toLowerCase(),
      d.payer.toLowerCase(),
      d.payee.toLowerCase(),
      d.value.toString(),
      d.validAfter.toString(),
      d.validBefore.toString(),
      d.nonce,
      d.signature,
      d.paymentId ?? null,
      p.purpose,
      p.orgId,
      (await ctx.reader.getBlockNumber()).toString(),
    ],
  )
  const payment = row ? toPayment(row) : await findPayment(ctx.db, ctx, d)
  if (!payment) throw new Error('x402 payment neither recorded nor found')
  if (payment.purpose !== p.purpose || (p.orgId !== null && payment.orgId !== p.orgId))
    throw new PaymentRefusedError(
      'nonce_used',
      'this authorization was already presented for another purpose or org',
    )
  if (row) await ctx.onStep?.('recorded', payment.id)
  return payment
}
