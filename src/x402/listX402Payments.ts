import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'
import type { X402PaymentStatus } from './schema.js'

export type X402HistoryRow = {
  id: bigint
  chainId: number
  purpose: 'topup' | 'signup'
  /** The authorizer, lower-case hex. */
  payer: string
  value: bigint
  status: X402PaymentStatus
  txHash: string
  blockNumber: bigint | null
  failureReason: string | null
  /** When the ledger credited it, else when its row last moved (RFC 3339). */
  at: string
}

/**
 * The x402 payments of an org that reached the chain (they have a transaction), newest first:
 * what its payment history lists beside the collector's pulls. An authorization refused before
 * anything was sent moved nothing and is not a payment.
 */
export async function listX402Payments(
  db: Db,
  p: { orgId: string; limit?: number },
): Promise<X402HistoryRow[]> {
  const rows = await db.$client<
    {
      id: string
      chain_id: number
      purpose: 'topup' | 'signup'
      payer: string
      value: string
      status: X402PaymentStatus
      tx_hash: string
      block_number: string | null
      failure_reason: string | null
      at: string
    }[]
  >`
    select id::text, chain_id, purpose, payer, value::text, status, tx_hash,
      block_number::text, failure_reason, coalesce(credited_at, updated_at) as at
    from x402_payments
    where org_id = ${p.orgId}::uuid and tx_hash is not null
    order by block_number desc nulls first, id desc
    limit ${p.limit ?? 100}`
  return rows.map((r) => ({
    id: BigInt(r.id),
    chainId: r.chain_id,
    purpose: r.purpose,
    payer: r.payer,
    value: BigInt(r.value),
    status: r.status,
    txHash: r.tx_hash,
    blockNumber: r.block_number === null ? null : BigInt(r.block_number),
    failureReason: r.failure_reason,
    at: rfc3339(r.at),
  }))
}
