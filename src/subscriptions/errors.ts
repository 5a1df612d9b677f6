import { BaseError } from '../core/errors.js'

/** 400/409: a signature or signed message the chain would refuse — nothing was sent. */
export class SignatureRejectedError extends BaseError {
  override name = 'SignatureRejectedError'
  constructor(reason: string, message: string, details?: Record<string, unknown>) {
    super(message, { code: 'SIGNATURE_REJECTED', details: { reason, ...details } })
  }
}
