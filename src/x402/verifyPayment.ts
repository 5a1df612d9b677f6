import { decodePaymentSignatureHeader } from '@x402/core/http'
import type { PaymentPayload } from '@x402/core/types'
import { ExactEvmScheme } from '@x402/evm/exact/facilitator'
import { getAddress, type Hex, isAddress } from 'viem'
import { z } from 'zod'
import type { X402Context } from './context.js'
import { type PaymentRefusal, PaymentRefusedError } from './errors.js'
import { facilitatorSigner } from './facilitatorSigner.js'
import { networkOf } from './paymentRequired.js'
import { tokenDomain } from './tokenDomain.js'

const uint = z.string().regex(/^\d{1,78}$/)
const eip3009Payload = z.object({
  signature: z.string().regex(/^0x([0-9a-fA-F]{2})+$/),
  authorization: z.object({
    from: z.string().refine((a) => isAddress(a, { strict: false })),
    to: z.string().refine((a) => isAddress(a, { strict: false })),
    value: uint,
    validAfter: uint,
    validBefore: uint,
    nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  }),
})
const paymentIdentifier = z.object({
  info: z.object({
    id: z
      .string()
      .min(16)
      .max(128)
      .regex(/^[a-zA-Z0-9_-]+$/),
  }),
})

/** One EIP-3009 authorization as the token will see it, and the request's idempotency key. */
export type DecodedPayment = {
  payload: PaymentPayload
  payer: `0x${string}`
  payee: `0x${string}`
  value: bigint
  validAfter: bigint
  validBefore: bigint
  nonce: Hex
  signature: Hex
  /** The `payment-identifier` extension's id, when sent. */
  paymentId: string | undefined
}

/**
 * Reads the `PAYMENT-SIGNATURE` header (x402 v2, base64 JSON): an `exact` EIP-3009 payload.
 * Anything else is a 402 `PAYMENT_REFUSED` (`malformed`, `scheme`), never a crash.
 */
export function decodePayment(header: string): DecodedPayment {
  let payload: PaymentPayload
  try {
    payload = decodePaymentSignatureHeader(header)
  } catch {
    throw new PaymentRefusedError('malformed', 'the payment header is not an x402 payment payload')
  }
  if (payload?.x402Version !== 2 || payload.accepted?.scheme !== 'exact')
    throw new PaymentRefusedError('scheme', 'only x402 v2 payments in the exact scheme are taken')
  const parsed = eip3009Payload.safeParse(payload.payload)
  if (!parsed.success)
    throw new PaymentRefusedError(
      'malformed',
      'the payment is not an EIP-3009 transferWithAuthorization',
    )
  const a = parsed.data.authorization
  // Clients echo the server's declaration (`info: { required }`); only an `id` makes it a key.
  const ext = payload.extensions?.['payment-identifier'] as { info?: { id?: unknown } } | undefined
  let paymentId: string | undefined
  if (ext?.info?.id !== undefined) {
    const id = paymentIdentifier.safeParse(ext)
    if (!id.success)
      throw new PaymentRefusedError(
        'malformed',
        'payment-identifier: an id of 16-128 characters a-z A-Z 0-9 _ -',
      )
    paymentId = id.data.info.id
  }
  return {
    payload,
    payer: getAddress(a.from),
    payee: getAddress(a.to),
    value: BigInt(a.value),
    validAfter: BigInt(a.validAfter),
    validBefore: BigInt(a.validBefore),
    nonce: a.nonce.toLowerCase() as Hex,
    signature: parsed.data.signature as Hex,
    paymentId,
  }
}

/** The x402 verifier's reasons, in our words. */
const libraryReasons: Record<string, PaymentRefusal> = {
  invalid_exact_evm_network_mismatch: 'network',
  invalid_exact_evm_recipient_mismatch: 'payee',
  invalid_exact_evm_signature: 'signature',
  invalid_exact_evm_failed_to_parse_signature: 'signature',
  eip6492_factory_not_allowed: 'signature',
  invalid_exact_evm_payload_authorization_valid_before: 'expired',
  invalid_exact_evm_payload_authorization_valid_after: 'not_yet_valid',
  invalid_exact_evm_payload_authorization_value_mismatch: 'amount',
  invalid_exact_evm_nonce_already_used: 'nonce_used',
  invalid_exact_evm_insufficient_balance: 'insufficient_funds',
  invalid_exact_evm_token_name_mismatch: 'asset',
  invalid_exact_evm_token_version_mismatch: 'asset',
  invalid_exact_evm_eip3009_not_supported: 'asset',
  asset_not_deployed_contract: 'asset',
  invalid_exact_evm_transaction_simulation_failed: 'settle_failed',
}

/**
 * Verifies a payment as the token will: our network, our token, our payee, an amount within
 * [min, max], then the x402 `exact` facilitator's own checks against the chain — the signature
 * under the EIP-712 domain read from the token (ECDSA, or ERC-1271 for a contract wallet), the
 * time window, and a simulated `transferWithAuthorization` (the nonce unused, the balance
 * there). Throws `PaymentRefusedError` naming the first reason; returns when the token would
 * take it now.
 */
export async function verifyPayment(ctx: X402Context, d: DecodedPayment): Promise<void> {
  const accepted = d.payload.accepted
  if (accepted.network !== networkOf(ctx.chainId))
    throw new PaymentRefusedError('network', `payments are taken on ${networkOf(ctx.chainId)}`, {
      network: accepted.network,
    })
  if (!isAddress(accepted.asset, { strict: false }) || getAddress(accepted.asset) !== ctx.token)
    throw new PaymentRefusedError('asset', `payments are taken in USDC at ${ctx.token}`)
  if (d.payee !== getAddress(ctx.payee) || getAddress(accepted.payTo ?? d.payee) !== d.payee)
    throw new PaymentRefusedError('payee', `payments must go to ${ctx.payee}`)
  if (d.value < ctx.amounts.min || d.value > ctx.amounts.max)
    throw new PaymentRefusedError(
      'amount',
      `a payment is between ${ctx.amounts.min} and ${ctx.amounts.max} micro-USDC`,
      { min_micros: ctx.amounts.min.toString(), max_micros: ctx.amounts.max.toString() },
    )
  const domain = await tokenDomain(ctx.reader, ctx.chainId, ctx.token)
  const requirements = {
    scheme: 'exact',
    network: networkOf(ctx.chainId),
    asset: ctx.token,
    amount: d.value.toString(),
    payTo: ctx.payee,
    maxTimeoutSeconds: accepted.maxTimeoutSeconds ?? 300,
    extra: { name: domain.name, version: domain.version },
  }
  const scheme = new ExactEvmScheme(
    facilitatorSigner(ctx.reader, ctx.operator?.account.address ?? ctx.payee),
  )
  const verdict = await scheme.verify(
    { ...d.payload, accepted: { ...accepted, ...requirements } },
    requirements,
  )
  if (verdict.isValid) return
  const reason = libraryReasons[verdict.invalidReason ?? ''] ?? 'signature'
  throw new PaymentRefusedError(reason, `the authorization would not be taken (${reason})`, {
    verifier_reason: verdict.invalidReason,
  })
}
