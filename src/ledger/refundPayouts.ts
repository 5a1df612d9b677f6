import { NotFoundError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { rfc3339 } from '../db/rfc3339.js'
import { appendEntries, entryFor, lockAccount, saveAccounts } from './accounts.js'
import { RefundNotChargedError } from './errors.js'
import { nowMicros } from './sql.js'

/** A refund's on-chain payback, as the payout step needs it. */
export type RefundPayout = {
  refundId: string
  orgId: string
  chargeId: string | null
  /** What could not be netted: paid back from the payee wallet. */
  amount: bigint
  /** Where it goes: the owner of the subscription the refund's charge was pulled under. */
  to: `0x${string}` | null
  /** null (not started) | intent (recorded, maybe sent) | paid | failed */
  status: string | null
  txHash: string | null
  /** The intent was recorded before (a crash or a retry): its transaction may be in flight. */
  resumed: boolean
}

type PayoutRow = {
  id: string
  org_id: string
  charge_id: string | null
  owed_onchain: bigint
  payout_status: string | null
  payout_to: string | null
  payout_tx_hash: string | null
  owner: string | null
}

const toPayout = (r: PayoutRow): RefundPayout => ({
  refundId: r.id,
  orgId: r.org_id,
  chargeId: r.charge_id,
  amount: BigInt(r.owed_onchain),
  to: (r.payout_to ?? r.owner) as `0x${string}` | null,
  status: r.payout_status,
  txHash: r.payout_tx_hash,
  resumed: r.payout_status === 'intent',
})

/**
 * Reads a refund's on-chain payout and, unless it is paid, records the intent to pay it (the
 * address it goes to, fixed from then on) — before anything is signed. A refund with nothing
 * owed on-chain answers `amount: 0n` and is never paid.
 *
 * @example
 * const payout = await startRefundPayout(db, { orgId, idempotencyKey: 'refund-7' })
 */
export async function startRefundPayout(
  db: Db,
  p: { orgId: string; idempotencyKey: string },
): Promise<RefundPayout> {
  return await db.$client.begin(async (tx) => {
    const [row] = await tx<PayoutRow[]>`
      select r.id::text, r.org_id, r.charge_id::text, r.owed_onchain, r.payout_status, r.payout_to,
        r.payout_tx_hash,
        coalesce((select s.owner from charges c join subscriptions s on s.id = c.subscription_id
                  where c.id = r.charge_id),
                 (select s.owner from usage u join subscriptions s on s.id = u.subscription_id
                  where u.id = r.usage_ids[1])) as owner
      from refunds r where r.org_id = ${p.orgId} and r.idempotency_key = ${p.idempotencyKey}
      for update of r`
    if (!row) throw new NotFoundError(`no refund with key ${p.idempotencyKey}`, { org_id: p.orgId })
    const payout = toPayout(row)
    if (payout.amount === 0n || payout.status === 'paid' || payout.status === 'intent')
      return payout
    if (!payout.to)
      throw new RefundNotChargedError('no owner wallet to pay the refund back to', {
        refund_id: payout.refundId,
      })
    await tx`update refunds set payout_status = 'intent', payout_to = ${payout.to}, payout_failure = null
      where id = ${payout.refundId}`
    return { ...payout, status: 'intent', resumed: false }
  })
}

/**
 * Records a refund paid back on-chain (its transfer mined): the ledger's `refund` entry takes it
 * off what was collected, once — a second call finds it paid and moves nothing.
 *
 * @example
 * await recordRefundPaid(db, { refundId: '7', txHash, blockNumber, blockTime, chainId: 8453 })
 */
export async function recordRefundPaid(
  db: Db,
  p: { refundId: string; txHash: string; blockNumber: bigint; blockTime: Date; chainId: number },
): Promise<void> {
  await db.$client.begin(async (tx) => {
    const [r] = await tx<
      { org_id: string; charge_id: bigint | null; owed_onchain: bigint; payout_status: string }[]
    >`select org_id, charge_id, owed_onchain, payout_status from refunds where id = ${p.refundId} for update`
    if (!r || r.payout_status === 'paid') return
    const account = await lockAccount(tx, r.org_id)
    const amount = BigInt(r.owed_onchain)
    account.collected -= amount
    await appendEntries(tx, [
      entryFor(account, {
        kind: 'refund',
        amount,
        chargeId: r.charge_id === null ? null : BigInt(r.charge_id),
        at: nowMicros(),
        memo: `refund ${p.refundId} paid ${p.txHash}`,
      }),
    ])
    await saveAccounts(tx, [account])
    await tx`update refunds set payout_status = 'paid', payout_tx_hash = ${p.txHash},
      payout_block = ${p.blockNumber.toString()}, payout_at = ${p.blockTime.toISOString()}::timestamptz, payout_chain_id = ${p.chainId}
      where id = ${p.refundId}`
  })
}

/** Records a payout that did not land (reverted, or refused before sending): it may be sent again. */
export async function recordRefundPayoutFailed(
  db: Db,
  p: { refundId: string; reason: string },
): Promise<void> {
  await db.$client`update refunds set payout_status = 'failed', payout_failure = ${p.reason}
    where id = ${p.refundId} and payout_status = 'intent'`
}

/** A refund's on-chain payback as the payment history lists it. */
export type ListedRefundPayout = {
  refundId: string
  subscriptionId: string | null
  amount: bigint
  /** The payee wallet that sent it. */
  from: string | null
  /** The owner it went back to. */
  to: string
  /** paid (mined) | pending (sent, not yet recorded) | failed (reverted; may be sent again) */
  status: 'paid' | 'pending' | 'failed'
  failureReason: string | null
  txHash: string
  blockNumber: bigint | null
  /** RFC 3339. */
  blockTime: string | null
  chainId: number | null
}

/**
 * An org's refund payouts that reached the chain (a transaction exists), newest first; only
 * those of one subscription's charges when `subscriptionId` is given. A payout refused before
 * anything was sent moved nothing and is not listed.
 */
export async function listRefundPayouts(
  db: Db,
  p: { orgId: string; subscriptionId?: string | undefined; limit: number },
): Promise<ListedRefundPayout[]> {
  const rows = await db.$client<
    {
      id: string
      subscription_id: string | null
      owed_onchain: bigint
      payout_status: 'intent' | 'paid' | 'failed'
      payout_to: string
      payout_failure: string | null
      tx_hash: string | null
      sender: string | null
      payout_block: bigint | null
      payout_at: string | null
      chain_id: number | null
    }[]
  >`
    select * from (
      select r.id::text, r.owed_onchain, r.payout_status, r.payout_to, r.payout_failure,
        r.payout_block, r.payout_at,
        coalesce((select c.subscription_id from charges c where c.id = r.charge_id),
                 (select u.subscription_id from usage u where u.id = r.usage_ids[1])) as subscription_id,
        coalesce(r.payout_tx_hash, o.tx_hashes[array_length(o.tx_hashes, 1)]) as tx_hash,
        o.address as sender, coalesce(r.payout_chain_id, o.chain_id) as chain_id
      from refunds r
      left join lateral (
        select address, chain_id, tx_hashes from operator_txs
        where purpose = 'refund:' || r.id order by id desc limit 1) o on true
      where r.org_id = ${p.orgId}::uuid and r.payout_status is not null
    ) x
    where tx_hash is not null
      and (${p.subscriptionId ?? null}::text is null or subscription_id = ${p.subscriptionId ?? null})
    order by payout_block desc nulls first, id desc
    limit ${p.limit}`
  return rows.map((r) => ({
    refundId: r.id,
    subscriptionId: r.subscription_id,
    amount: BigInt(r.owed_onchain),
    from: r.sender,
    to: r.payout_to,
    status: r.payout_status === 'intent' ? 'pending' : r.payout_status,
    failureReason: r.payout_failure,
    txHash: r.tx_hash!,
    blockNumber: r.payout_block === null ? null : BigInt(r.payout_block),
    blockTime: rfc3339(r.payout_at),
    chainId: r.chain_id,
  }))
}
