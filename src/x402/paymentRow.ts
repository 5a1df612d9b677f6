import type { Hex } from 'viem'
import type { X402PaymentStatus } from './schema.js'

/** An x402 payment as the domain functions read it. */
export type Payment = {
  id: bigint
  chainId: number
  token: `0x${string}`
  payer: `0x${string}`
  payee: `0x${string}`
  value: bigint
  validAfter: bigint
  validBefore: bigint
  nonce: Hex
  signature: Hex
  paymentId: string | null
  purpose: 'topup' | 'signup'
  orgId: string | null
  status: X402PaymentStatus
  operatorTxId: bigint | null
  txHash: Hex | null
  blockNumber: bigint | null
  failureReason: string | null
  recordedBlock: bigint
  creditedAt: Date | null
  response: { status: number; body: unknown } | null
  createdAt: Date
}

/** The columns every query selects, in the shape `toPayment` reads. */
export const paymentColumns = `id, chain_id, token, payer, payee, value, valid_after, valid_before, nonce,
  signature, payment_id, purpose, org_id, status, operator_tx_id, tx_hash, block_number,
  failure_reason, recorded_block, credited_at, response, created_at`

// biome-ignore lint/suspicious/noExplicitAny: a postgres.js row
export const toPayment = (r: any): Payment => ({
  id: BigInt(r.id),
  chainId: r.chain_id,
  token: r.token,
  payer: r.payer,
  payee: r.payee,
  value: BigInt(r.value),
  validAfter: BigInt(r.valid_after),
  validBefore: BigInt(r.valid_before),
  nonce: r.nonce,
  signature: r.signature,
  paymentId: r.payment_id,
  purpose: r.purpose,
  orgId: r.org_id,
  status: r.status,
  operatorTxId: r.operator_tx_id === null ? null : BigInt(r.operator_tx_id),
  txHash: r.tx_hash,
  blockNumber: r.block_number === null ? null : BigInt(r.block_number),
  failureReason: r.failure_reason,
  recordedBlock: BigInt(r.recorded_block),
  creditedAt: r.credited_at,
  response: r.response,
  createdAt: r.created_at,
})
