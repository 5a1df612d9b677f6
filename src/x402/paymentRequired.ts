import type { PaymentRequired } from '@x402/core/types'
import type { X402Context } from './context.js'
import { tokenDomain } from './tokenDomain.js'

/** How long an authorization the client signs stays valid (x402's `maxTimeoutSeconds`). */
const MAX_TIMEOUT_SECONDS = 300

/** The x402 network id of a chain (CAIP-2). */
export const networkOf = (chainId: number) => `eip155:${chainId}` as const

export type PaymentRequiredParameters = {
  /** The resource the payment unlocks (the request's URL). */
  url: string
  description: string
  /** Why payment is asked (shown by clients). */
  error?: string | undefined
}

/**
 * The x402 v2 payment requirements for a top-up: `exact` on our chain, in USDC, to our payee,
 * of the configured top-up amount (a payment of any amount between `min` and `max` is also
 * taken; `extra` says so), signed as EIP-3009 `transferWithAuthorization` under the token's own
 * EIP-712 domain. The `payment-identifier` extension is offered as an idempotency key.
 *
 * @example
 * res.setHeader('PAYMENT-REQUIRED', encodePaymentRequiredHeader(await paymentRequired(ctx, { url, description: 'top-up' })))
 */
export async function paymentRequired(
  ctx: X402Context,
  p: PaymentRequiredParameters,
): Promise<PaymentRequired> {
  const domain = await tokenDomain(ctx.reader, ctx.chainId, ctx.token)
  return {
    x402Version: 2,
    ...(p.error ? { error: p.error } : {}),
    resource: { url: p.url, description: p.description, mimeType: 'application/json' },
    accepts: [
      {
        scheme: 'exact',
        network: networkOf(ctx.chainId),
        asset: ctx.token,
        amount: ctx.amounts.topUp.toString(),
        payTo: ctx.payee,
        maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
        extra: {
          name: domain.name,
          version: domain.version,
          minAmount: ctx.amounts.min.toString(),
          maxAmount: ctx.amounts.max.toString(),
        },
      },
    ],
    extensions: {
      'payment-identifier': {
        info: { required: false },
        schema: {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          type: 'object',
          properties: {
            id: { type: 'string', minLength: 16, maxLength: 128, pattern: '^[a-zA-Z0-9_-]+$' },
          },
          required: ['id'],
        },
      },
    },
  }
}
