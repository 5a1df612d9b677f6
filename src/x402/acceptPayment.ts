import type { X402Context } from './context.js'
import { type PaymentRefusal, PaymentRefusedError } from './errors.js'
import type { Payment } from './paymentRow.js'
import { findPayment, recordPayment } from './recordPayment.js'
import { settlePayment } from './settlePayment.js'
import { decodePayment, verifyPayment } from './verifyPayment.js'

export type AcceptPaymentParameters = {
  /** The request's `PAYMENT-SIGNATURE` header. */
  header: string
  purpose: 'topup' | 'signup'
  /** The org a top-up is for (null for a sign-up). */
  orgId: string | null
}

/**
 * Takes an x402 payment to the point where the money has moved: decodes the header, finds the
 * payment if this authorization (or this `payment-identifier`) was seen before, else verifies
 * it as the token will and records it, then settles it through the operator. Returns the
 * `settled` payment; a refusal is a 402 `PAYMENT_REFUSED`, a payment not settled yet a 503
 * `PAYMENT_PENDING` (the same header resumes it). Presenting one header any number of times,
 * at once or after a crash, moves the money once.
 *
 * @example
 * const payment = await acceptPayment(ctx, { header: req.get('payment-signature')!, purpose: 'topup', orgId })
 */
export async function acceptPayment(
  ctx: X402Context,
  p: AcceptPaymentParameters,
): Promise<Payment> {
  const d = decodePayment(p.header)
  let payment = await findPayment(ctx.db, ctx, d)
  if (!payment) {
    await verifyPayment(ctx, d)
    payment = await recordPayment(ctx, { payment: d, purpose: p.purpose, orgId: p.orgId })
  } else if (payment.purpose !== p.purpose || (p.orgId !== null && payment.orgId !== p.orgId)) {
    throw new PaymentRefusedError(
      'payment_id_reused',
      'this payment was already presented for another purpose or org',
    )
  }
  if (payment.status === 'failed') throw failed(payment)
  if (payment.status !== 'settled') payment = await settlePayment(ctx, payment.id)
  if (payment.status === 'failed') throw failed(payment)
  return payment
}

const failed = (p: Payment) =>
  new PaymentRefusedError(
    (p.failureReason as PaymentRefusal | null) ?? 'settle_failed',
    'this authorization could not be settled; sign a new one',
    { payment: p.id.toString() },
  )
