import { BaseError } from '../core/errors.js'

/** Why a payment was refused: stable, for clients to branch on. */
export type PaymentRefusal =
  | 'malformed'
  | 'scheme'
  | 'network'
  | 'asset'
  | 'payee'
  | 'amount'
  | 'expired'
  | 'not_yet_valid'
  | 'nonce_used'
  | 'signature'
  | 'insufficient_funds'
  | 'payment_id_reused'
  | 'settle_failed'

/** The x402 payment cannot be taken; nothing was credited, the payer may pay again. */
export class PaymentRefusedError extends BaseError {
  override name = 'PaymentRefusedError'
  readonly reason: PaymentRefusal
  constructor(reason: PaymentRefusal, message: string, details: Record<string, unknown> = {}) {
    super(`PAYMENT_REFUSED: ${message}`, {
      code: 'PAYMENT_REFUSED',
      details: { reason, ...details },
    })
    this.reason = reason
  }
}

/**
 * The payment is recorded but not settled yet (its transaction in flight, or the operator
 * could not send it). Retrying with the same payment header resumes it; it is never paid twice.
 */
export class PaymentPendingError extends BaseError {
  override name = 'PaymentPendingError'
  constructor(message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(message, { code: 'PAYMENT_PENDING', details, cause })
  }
}

/** A route paid over x402 was called without a payment (the requirements are in the header). */
export class PaymentRequiredError extends BaseError {
  override name = 'PaymentRequiredError'
  constructor(message: string) {
    super(`PAYMENT_REQUIRED: ${message}`, { code: 'PAYMENT_REQUIRED' })
  }
}
