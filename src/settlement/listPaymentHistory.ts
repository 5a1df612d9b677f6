import { txUrl } from '../chain/explorer.js'
import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'
import { listRefundPayouts } from '../ledger/index.js'
import { listX402Payments } from '../x402/listX402Payments.js'
import { listPayments } from './indexChain.js'

/**
 * How a payment moved: a collector pull or an x402 payment the operator settled (to the payee),
 * or a refund paid back on-chain from the payee wallet (to the owner).
 */
export type PaymentKind = 'collector_pull' | 'x402_top_up' | 'refund_payout'

/**
 * `collected` / `failed` for a pull; `settled` / `pending` (sent, not yet confirmed) / `failed`
 * for an x402 payment; `paid` / `pending` / `failed` (reverted, sent again later) for a refund.
 */
export type PaymentStatus = 'collected' | 'failed' | 'settled' | 'pending' | 'paid'

/** One payment of an org's history, whichever door it came through. */
export type HistoryPayment = {
  kind: PaymentKind
  /**
   * The chain event that records it: `Collected`, `ChargeFailed`, `AuthorizationUsed`, or the
   * token's `Transfer` (a refund payout).
   */
  event: string
  status: PaymentStatus
  /** `to_payee` (the owner paid) or `to_owner` (a refund: money back to the owner). */
  direction: 'to_payee' | 'to_owner'
  /** A pull's subscription and charge sequence; null for an x402 payment. */
  subscriptionId: string | null
  seq: number | null
  amount: bigint
  /** The wallet that paid (a pull's: the subscription's owner, when known; a refund's: the payee). */
  payer: string | null
  /** Where a refund went (the owner's wallet); null for payments to the payee. */
  recipient: string | null
  /** The refund a payout pays back; null otherwise. */
  refundId: string | null
  failureReason: string | null
  txHash: string
  /** Null while an x402 payment's transaction is not yet mined. */
  blockNumber: bigint | null
  /** When it happened (RFC 3339): a pull's block time, an x402 payment's credit. */
  at: string | null
  explorerUrl: string | null
}

export type ListPaymentHistoryParameters = {
  orgId: string
  /** Only this subscription's pulls and refunds (the manage page); x402 payments are the org's. */
  subscriptionId?: string
  limit?: number
}

/**
 * An org's payment history, newest first: the collector's pulls (mirrored from the chain), the
 * x402 payments settled to the payee, and the refunds paid back to the owner from the payee
 * wallet, each with its transaction and explorer link.
 */
export async function listPaymentHistory(
  db: Db,
  p: ListPaymentHistoryParameters,
): Promise<HistoryPayment[]> {
  const limit = p.limit ?? 100
  const [pulls, x402, refunds, owners] = await Promise.all([
    listPayments(
      db,
      p.subscriptionId ? { subscriptionId: p.subscriptionId, limit } : { orgId: p.orgId, limit },
    ),
    listX402Payments(db, { orgId: p.orgId, limit }),
    listRefundPayouts(db, { orgId: p.orgId, subscriptionId: p.subscriptionId, limit }),
    db.$client<{ id: string; owner: string | null }[]>`
      select id, owner from subscriptions where org_id = ${p.orgId}::uuid`,
  ])
  const ownerOf = new Map(owners.map((s) => [s.id, s.owner]))
  const rows: HistoryPayment[] = [
    ...pulls.map(
      (r): HistoryPayment => ({
        kind: 'collector_pull',
        event: r.event,
        status: r.event === 'Collected' ? 'collected' : 'failed',
        direction: 'to_payee',
        subscriptionId: r.subscriptionId,
        seq: r.seq,
        amount: r.amount,
        payer: ownerOf.get(r.subscriptionId) ?? null,
        recipient: null,
        refundId: null,
        failureReason: r.failureReason,
        txHash: r.txHash,
        blockNumber: r.blockNumber,
        at: rfc3339(r.blockTime),
        explorerUrl: r.explorerUrl,
      }),
    ),
    ...x402.map(
      (x): HistoryPayment => ({
        kind: 'x402_top_up',
        event: 'AuthorizationUsed',
        status: x.status === 'settled' ? 'settled' : x.status === 'failed' ? 'failed' : 'pending',
        direction: 'to_payee',
        subscriptionId: null,
        seq: null,
        amount: x.value,
        payer: x.payer,
        recipient: null,
        refundId: null,
        failureReason: x.failureReason,
        txHash: x.txHash,
        blockNumber: x.blockNumber,
        at: x.at,
        explorerUrl: txUrl(x.chainId, x.txHash),
      }),
    ),
    ...refunds.map(
      (f): HistoryPayment => ({
        kind: 'refund_payout',
        event: 'Transfer',
        status: f.status,
        direction: 'to_owner',
        subscriptionId: f.subscriptionId,
        seq: null,
        amount: f.amount,
        payer: f.from,
        recipient: f.to,
        refundId: f.refundId,
        failureReason: f.failureReason,
        txHash: f.txHash,
        blockNumber: f.blockNumber,
        at: f.blockTime,
        explorerUrl: f.chainId === null ? null : txUrl(f.chainId, f.txHash),
      }),
    ),
  ]
  // Newest block first; a transaction not yet mined is newer than any. Sorting is stable, so
  // each list keeps its own order within a block.
  rows.sort((a, b) => {
    if (a.blockNumber === b.blockNumber) return 0
    if (a.blockNumber === null) return -1
    if (b.blockNumber === null) return 1
    return a.blockNumber > b.blockNumber ? -1 : 1
  })
  return rows.slice(0, limit)
}
