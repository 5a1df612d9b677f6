import { x402OrgBody } from '../schemas/x402Schemas.js'
import type { Operation } from './operation.js'

/** The operations paid over x402 (docs/x402.md); a top-up rides on any write instead. */
export const x402Operations = [
  {
    method: 'post',
    path: '/v1/x402/orgs',
    summary:
      'Sign up paid over x402: without PAYMENT-SIGNATURE, 402 with the PAYMENT-REQUIRED header; with a payment, an org owned by the paying wallet, the payment as prepaid balance, and a first API key (201; the same payment again: 200, no key)',
    action: 'free',
    auth: 'none',
    body: x402OrgBody,
    optionalBody: true,
    success: [201, 200],
    errors: ['PAYMENT_REQUIRED', 'PAYMENT_REFUSED', 'PAYMENT_PENDING', 'NO_CHAIN'],
  },
] satisfies Operation[]
