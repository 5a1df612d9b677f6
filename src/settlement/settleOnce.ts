import type postgres from 'postgres'
import { ContractFunctionExecutionError, type Hex, parseEventLogs } from 'viem'
import { collectorAbi } from '../chain/abis.js'
import { type BlockRange, getLogsInRanges } from '../chain/getLogsInRanges.js'
import { type OperatorTx, operatorWalletFor } from '../chain/operatorWallet.js'
import {
  bookCharges,
  markChargeCollected,
  markChargeFailed,
  refreshLimitWaiting,
  setSubscriptionState,
} from '../ledger/index.js'
import { subscriptionKey } from '../subscriptions/typedData.js'
import { checkChainTruth } from './checkChainTruth.js'
import {
  type FailureReason,
  failureReasons,
  type SettlementContext,
  stateForFailure,
  unpackCollected,
} from './context.js'
import { isPayeeBlacklisted } from './isPayeeBlacklisted.js'
import { resolveOwnerCancel } from './resolveOwnerCancel.js'
import { submitHeldAuthorization } from './submitHeldAuthorization.js'

type ClaimedCharge = {
  id: bigint
  org_id: string
  subscription_id: string
  seq: number
  window_index: number
  amount: bigint
}

/** Why a pull failed: the collector's reason, or the payee's blacklisting it hides behind one. */
export type SettleFailure = FailureReason | 'payee_blacklisted' | 'seq_blocked'

export type SettleReport = {
  recovered: number
  booked: number
  batches: number
  collected: number
  failed: Array<{ chargeId: string; reason: SettleFailure }>
  /** The token blacklisted the payee: nothing was sent (the operator's problem, see the log). */
  payeeBlacklisted: boolean
  /**
   * Subscriptions stuck behind a seq the ledger will never collect (written off, or lost
   * off-chain): their next charges wait, unsent, until an operator retires that seq on-chain.
   */
  blocked: Array<{ subscriptionId: string; seq: number; chargeId: string }>
  txHashes: Hex[]
  gasUsed: bigint
}

const idOfKey = (key: Hex) => key.slice(-32)

/**
 * Failures a later pull can clear: such charges are sent again while the subscription is
 * active — after the owner re-ups (allowance, balance...), once the earlier charge lands (a seq
 * gap), or in a window the collector takes (a pull that crossed a window boundary on its way:
 * the claim moves it to the previous window by the chain's clock).
 */
const retryable: SettleFailure[] = [
  'payee_blacklisted',
  'allowance',
  'balance',
  'blacklisted',
  'paused',
  'token_reverted',
  'seq_gap',
  'window',
  'cap',
]

/**
 * Books a charge for every active org whose accrued usage crossed the threshold or waited
 * too long. Booking locks the org's account, so two workers never book the same usage.
 */
async function bookDueCharges(
  ctx: SettlementContext,
  p: { orgIds?: string[] } = {},
): Promise<number> {
  const found = await ctx.db.$client<
    { org_id: string; subscription_id: string; accrued: bigint; held: boolean }[]
  >`
    select a.org_id, a.subscription_id, a.accrued,
      exists (select 1 from held_authorizations h where h.subscription_id = a.subscription_id
              and h.submitted_at is null and h.dropped_at is null) as held
    from billing_accounts a join subscriptions s on s.id = a.subscription_id
    where s.state = 'active' and a.accrued > 0
      and (a.accrued >= ${ctx.thresholdMicros.toString()}::int8
           or a.accrued_since < clock_timestamp() - make_interval(secs => ${ctx.maxAccrualAgeSeconds}))
      and (${p.orgIds ?? null}::uuid[] is null or a.org_id = any(${p.orgIds ?? null}::uuid[]))
    order by a.org_id`
  if (found.length === 0) return 0
  // A counterfactual owner's held authorization goes on-chain now that a charge is due (and the
  // wallet can pay it); until it has, there is nothing on-chain to collect against.
  const sendable = []
  for (const d of found) {
    if (!d.held) {
      sendable.push(d)
      continue
    }
    const held = await submitHeldAuthorization(ctx, {
      orgId: d.org_id,
      subscriptionId: d.subscription_id,
      amountDue: BigInt(d.accrued),
    }).catch((error) => {
      // An RPC failure for one org must not stop the run for the others; the next run retries.
      ctx.log?.warn('held authorization not sent', { orgId: d.org_id, error: String(error) })
      return undefined
    })
    if (held?.outcome === 'submitted' || held?.outcome === 'none') sendable.push(d)
  }
  const due = sendable
  if (due.length === 0) return 0
  // Truth first: an org revoked, drained or canceled on-chain is not booked as if active.
  await checkChainTruth(ctx, { orgIds: due.map((d) => d.org_id) })
  let booked = 0
  for (const { org_id } of due) booked += (await bookCharges(ctx.db, { orgId: org_id })).length
  return booked
}

/**
 * Claims sendable charges and records the batch's intent in one transaction, before anything
 * is sent: charges go `submitted` (other workers skip them), the batch row lists them.
 *
 * The collector takes a subscription's charges in sequence only (`seq == last + 1`): a charge
 * waits while an earlier one of its subscription is in flight or failed for a reason a retry
 * cannot clear — sent, it could only fail as a seq gap, paying gas for nothing (and, seq gaps
 * being retried, again and again). `sent` are the charges this pass already sent: none goes
 * twice in one pass, so a pass always ends. A charge refused for the owner's limit is sent again
 * once it fits (`limitCleared`).
 */
async function claimBatch(ctx: SettlementContext, limit: number, sent: readonly string[]) {
  const [fitting, unblocked] = await Promise.all([limitCleared(ctx, sent), seqUnblocked(ctx, sent)])
  const fittingIds = [...fitting.keys(), ...unblocked]
  return await ctx.db.$client.begin(async (tx) => {
    const charges = await tx<ClaimedCharge[]>`
      with picked as (
        select c.id from charges c join subscriptions s on s.id = c.subscription_id
        where s.state = 'active'
          and (c.status = 'booked'
               or (c.status = 'failed' and c.failure_reason = any(${retryable}::text[]))
               or (c.status = 'failed' and c.id = any(${fittingIds}::int8[])))
          and c.id <> all(${sent}::int8[])
          and not exists (
            select 1 from charges e
            where e.subscription_id = c.subscription_id and e.seq < c.seq
              and (e.status = 'submitted' or (e.status = 'failed' and e.failure_reason <> all(${retryable}::text[]))))
        order by c.subscription_id, c.seq
        for update of c skip locked
        limit ${limit})
      update charges c set status = 'submitted', tx_hash = null, updated_at = clock_timestamp()
      from picked where c.id = picked.id
      returning c.id, c.org_id, c.subscription_id, c.seq, c.window_index, c.amount`
    if (charges.length === 0) return undefined
    for (const c of charges) {
      const window = fitting.get(c.id.toString())
      if (window !== undefined) await carryIntoWindow(tx, c, window)
    }
    // Sent again, they no longer wait: the window they go in counts them now.
    await refreshLimitWaiting(tx, {
      subscriptionIds: charges
        .filter((c) => fitting.has(c.id.toString()))
        .map((c) => c.subscription_id),
    })
    const current = await rewindowStale(ctx, tx, charges)
    await keepWindowsMonotonic(tx, charges, current)
    charges.sort((a, b) =>
      a.subscription_id === b.subscription_id
        ? a.seq - b.seq
        : a.subscription_id < b.subscription_id
          ? -1
          : 1,
    )
    const [batch] = await tx<{ id: bigint }[]>`
      insert into settlement_batches (chain_id, operator, status, charge_ids)
      values (${ctx.deployment.chainId}, ${ctx.operator.account.address}, 'intent', ${charges.map((c) => c.id.toString())}::int8[])
      returning id`
    return { batchId: batch!.id, charges }
  })
}

/**
 * Charges refused for the owner's per-window limit (the owner cut it on-chain after the usage was
 * metered) that the collector would take now, each with the window to send it in: the chain's
 * current one. Such a charge waits — it could only be refused again, for gas — until it fits
 * what is left of the limit in the current window: in a later window (it is carried there), or
 * in the same one after the owner raised the limit. One larger than the limit itself waits for
 * the owner to raise it. Read from the collector, the only judge of the limit; only the first
 * such charge of a subscription (the later ones are held back behind it).
 */
async function limitCleared(
  ctx: SettlementContext,
  sent: readonly string[],
): Promise<Map<string, number>> {
  const waiting = await ctx.db.$client<{ id: bigint; subscription_id: string; amount: bigint }[]>`
    select distinct on (c.subscription_id) c.id, c.subscription_id, c.amount
    from charges c join subscriptions s on s.id = c.subscription_id
    where s.state = 'active' and c.status = 'failed' and c.failure_reason = 'limit'
      and c.id <> all(${sent}::int8[])
    order by c.subscription_id, c.seq`
  const out = new Map<string, number>()
  if (waiting.length === 0) return out
  const { timestamp } = await ctx.operator.getBlock()
  await Promise.all(
    waiting.map(async (c) => {
      const s = await ctx.operator.readContract({
        address: ctx.deployment.collector!,
        abi: collectorAbi,
        functionName: 'getSubscription',
        args: [subscriptionKey(c.subscription_id)],
      })
      if (Number(s.status) !== 1 || s.period === 0) return
      const start = BigInt(s.start)
      const current = timestamp > start ? Number((timestamp - start) / BigInt(s.period)) : 0
      const spent = Number(s.lastWindow) === current ? s.collectedInWindow : 0n
      if (s.limit === 0n || spent + BigInt(c.amount) <= s.limit) out.set(c.id.toString(), current)
    }),
  )
  return out
}

/**
 * Charges held for a seq the ledger will never collect (`seq_blocked`) whose turn came: the
 * collector's next seq is theirs now (an operator retired the one before). Only the first such
 * charge of a subscription; the later ones follow it.
 */
async function seqUnblocked(ctx: SettlementContext, sent: readonly string[]): Promise<string[]> {
  const waiting = await ctx.db.$client<{ id: bigint; subscription_id: string; seq: number }[]>`
    select distinct on (c.subscription_id) c.id, c.subscription_id, c.seq
    from charges c join subscriptions s on s.id = c.subscription_id
    where s.state = 'active' and c.status = 'failed' and c.failure_reason = 'seq_blocked'
      and c.id <> all(${sent}::int8[])
    order by c.subscription_id, c.seq`
  const out: string[] = []
  await Promise.all(
    waiting.map(async (c) => {
      const last = await ctx.operator.readContract({
        address: ctx.deployment.collector!,
        abi: collectorAbi,
        functionName: 'lastSeq',
        args: [subscriptionKey(c.subscription_id)],
      })
      if (last + 1 === c.seq) out.push(c.id.toString())
    }),
  )
  return out
}

/**
 * A pull refused as a seq gap: the collector's next seq (`lastSeq + 1`) is not this one. When
 * the ledger will never send that seq (its charge written off, collected as far as the ledger
 * knows, or missing — lost off-chain), retrying is a loop that pays gas every pass: the charge
 * is held as `seq_blocked`, reported and logged with the seq to retire, and sent again once
 * the collector's next seq is its own. Returns the blocking seq, or undefined for a gap that
 * clears by itself (the seq before is still on its way).
 */
async function blockingSeq(ctx: SettlementContext, charge: ClaimedCharge) {
  const last = await ctx.operator.readContract({
    address: ctx.deployment.collector!,
    abi: collectorAbi,
    functionName: 'lastSeq',
    args: [subscriptionKey(charge.subscription_id)],
  })
  const next = last + 1
  if (next >= charge.seq) return undefined
  const [pending] = await ctx.db.$client<{ id: bigint }[]>`
    select id from charges where subscription_id = ${charge.subscription_id} and seq = ${next}
      and status in ('booked', 'submitted', 'failed')`
  return pending ? undefined : next
}

/**
 * Moves a charge refused for the limit into `window`, where it now fits, as the claim sends it;
 * carried into a later window, it counts toward that window's limit on the ledger too, so the
 * gate leaves the owner's limit for it (the collector counts it there).
 */
async function carryIntoWindow(tx: postgres.TransactionSql, c: ClaimedCharge, window: number) {
  if (c.window_index === window) return
  await tx`update charges set window_index = ${window}, updated_at = clock_timestamp() where id = ${c.id.toString()}`
  if (window > c.window_index)
    await tx`
      update billing_accounts set
        spend_window_spent = case when spend_window = ${window} then spend_window_spent + ${c.amount.toString()}::int8
                                  else ${c.amount.toString()}::int8 end,
        spend_window = ${window}
      where org_id = ${c.org_id} and subscription_id = ${c.subscription_id} and spend_window <= ${window}`
  c.window_index = window
}

/**
 * The collector takes a charge in its subscription's current window or the one before, and a
 * charge keeps the window it was booked in. One retried windows later (a lapse the owner re-upped
 * a month on) would be refused for good, and every later charge after it as a seq gap: it moves
 * to the previous window by the chain's clock, the oldest the collector takes (nothing was
 * collected there while the subscription waited). One booked under windows a new period restarted
 * moves to the current window. Recorded with the claim, before anything is sent.
 */
async function rewindowStale(
  ctx: SettlementContext,
  tx: postgres.TransactionSql,
  charges: ClaimedCharge[],
) {
  const subscriptionIds = [...new Set(charges.map((c) => c.subscription_id))]
  const [{ timestamp }, windows] = await Promise.all([
    ctx.operator.getBlock(),
    tx<{ id: string; start: bigint | null; seconds: number }[]>`
      select id, extract(epoch from window_start)::int8 as start, window_seconds as seconds
      from subscriptions where id = any(${subscriptionIds}::text[])`,
  ])
  const current = new Map(
    windows
      .filter((w) => w.start !== null && w.seconds > 0)
      .map((w) => [w.id, Number((timestamp - BigInt(w.start!)) / BigInt(w.seconds))]),
  )
  for (const c of charges) {
    const now = current.get(c.subscription_id)
    if (now === undefined) continue
    // Booked under windows the owner's new period restarted: it is due in the current one.
    if (c.window_index > now) c.window_index = now
    else if (c.window_index + 1 < now) c.window_index = now - 1
    else continue
    await tx`update charges set window_index = ${c.window_index}, updated_at = clock_timestamp() where id = ${c.id.toString()}`
  }
  return current
}

/**
 * The collector refuses a window before its subscription's last one, so a charge never goes in
 * a window before its predecessor's (a predecessor carried into a later window for the limit, or
 * moved by `rewindowStale`, takes its successors along): sent earlier, it could only fail
 * `window`, and every later charge `seq_gap`. Moved into a later window, it counts there, on the
 * ledger as on-chain.
 */
async function keepWindowsMonotonic(
  tx: postgres.TransactionSql,
  charges: ClaimedCharge[],
  current: ReadonlyMap<string, number>,
) {
  const bySubscription = new Map<string, ClaimedCharge[]>()
  for (const c of charges) {
    const list = bySubscription.get(c.subscription_id) ?? []
    list.push(c)
    bySubscription.set(c.subscription_id, list)
  }
  const firsts = [...bySubscription.values()].map((list) => {
    list.sort((a, b) => a.seq - b.seq)
    return list[0]!
  })
  const previous = await tx<{ subscription_id: string; window_index: number }[]>`
    select c.subscription_id, c.window_index from charges c
    join unnest(${firsts.map((c) => c.subscription_id)}::text[], ${firsts.map((c) => c.seq - 1)}::int4[]) as q(subscription_id, seq)
      on c.subscription_id = q.subscription_id and c.seq = q.seq`
  const floorOf = new Map(previous.map((p) => [p.subscription_id, p.window_index]))
  for (const [subscriptionId, list] of bySubscription) {
    // Never past the chain's current window: windows a new period restarted count afresh.
    let floor = Math.min(
      floorOf.get(subscriptionId) ?? 0,
      current.get(subscriptionId) ?? Number.MAX_SAFE_INTEGER,
    )
    for (const c of list) {
      if (c.window_index < floor) await carryIntoWindow(tx, c, floor)
      floor = c.window_index
    }
  }
}

/**
 * Finds the `Collected` event of (subscription, seq) on-chain: the proof a charge was pulled.
 * Read newest first in bounded ranges (the pull is recent; RPCs cap log ranges).
 */
async function findCollection(ctx: SettlementContext, subscriptionId: string, seq: number) {
  const isIt = (log: { args: { packed?: bigint } }) => unpackCollected(log.args.packed!).seq === seq
  const logs = await getLogsInRanges(ctx.operator, {
    fromBlock: BigInt(ctx.deployment.blocks.collector ?? 0),
    maxRange: ctx.maxLogRange,
    direction: 'backward',
    stop: (found) => found.some(isIt),
    read: (range: BlockRange) =>
      ctx.operator.getContractEvents({
        address: ctx.deployment.collector!,
        abi: collectorAbi,
        eventName: 'Collected',
        args: { subscription: subscriptionKey(subscriptionId) },
        ...range,
      }),
  })
  const log = logs.find(isIt)
  return log ? { txHash: log.transactionHash, blockNumber: log.blockNumber } : undefined
}

async function applyFailure(
  ctx: SettlementContext,
  charge: ClaimedCharge,
  reason: FailureReason,
  report: SettleReport,
) {
  if (reason === 'seq_used') {
    // Pulled before (a replaced or re-sent batch): find that pull, never pull again.
    const found = await findCollection(ctx, charge.subscription_id, charge.seq)
    if (found) {
      await markChargeCollected(ctx.db, { chargeId: charge.id.toString(), txHash: found.txHash })
      report.collected++
      return
    }
  }
  if (reason === 'seq_gap') {
    const seq = await blockingSeq(ctx, charge)
    if (seq !== undefined) {
      await markChargeFailed(ctx.db, { chargeId: charge.id.toString(), reason: 'seq_blocked' })
      report.failed.push({ chargeId: charge.id.toString(), reason: 'seq_blocked' })
      report.blocked.push({
        subscriptionId: charge.subscription_id,
        seq,
        chargeId: charge.id.toString(),
      })
      ctx.log?.warn('subscription blocked behind a seq that will never be collected: retire it', {
        subscriptionId: charge.subscription_id,
        seq,
      })
      return
    }
  }
  if (reason === 'blacklisted' && (await isPayeeBlacklisted(ctx.operator, ctx.deployment))) {
    // The collector says "blacklisted" for the payee too: nobody's pull can land, and no owner
    // lapses for it. The charge waits, sent again once the payee is cleared.
    await markChargeFailed(ctx.db, { chargeId: charge.id.toString(), reason: 'payee_blacklisted' })
    report.failed.push({ chargeId: charge.id.toString(), reason: 'payee_blacklisted' })
    report.payeeBlacklisted = true
    return
  }
  await markChargeFailed(ctx.db, { chargeId: charge.id.toString(), reason })
  report.failed.push({ chargeId: charge.id.toString(), reason })
  if (reason === 'canceled') {
    // The owner canceled on-chain themselves: what is owed can never be pulled.
    await resolveOwnerCancel(ctx, {
      orgId: charge.org_id,
      subscriptionId: charge.subscription_id,
      reason: 'pull_failed:canceled',
    })
    return
  }
  const to = stateForFailure(reason)
  if (to) {
    const [s] = await ctx.db.$client<
      { state: string }[]
    >`select state from subscriptions where id = ${charge.subscription_id}`
    if (s && s.state !== to && s.state !== 'canceled') {
      await setSubscriptionState(ctx.db, {
        subscriptionId: charge.subscription_id,
        to,
        cause: 'chain',
        reason: `pull_failed:${reason}`,
      })
    }
  }
}

/** Puts a batch's charges back to `booked` (nothing of it was pulled) and closes the batch. */
async function release(ctx: SettlementContext, batchId: bigint, ids: string[]) {
  await ctx.db.$client.begin(async (t) => {
    await t`update charges set status = 'booked', updated_at = clock_timestamp() where id = any(${ids}::int8[]) and status = 'submitted'`
    await t`update settlement_batches set status = 'reconciled', updated_at = clock_timestamp() where id = ${batchId.toString()}`
  })
}

/** Sends one claimed batch and settles each charge from the receipt's events. */
async function sendBatch(
  ctx: SettlementContext,
  batchId: bigint,
  charges: ClaimedCharge[],
  report: SettleReport,
) {
  const items = charges.map((c) => ({
    subscription: subscriptionKey(c.subscription_id),
    seq: c.seq,
    window: c.window_index,
    amount: c.amount,
  }))
  const ids = charges.map((c) => c.id.toString())
  const wallet = await operatorWalletFor(ctx.db, ctx.operator, ctx.log)
  let tx: OperatorTx
  try {
    // Signed and recorded (operator_txs, purpose batch:<id>) before it is broadcast.
    tx = await wallet.sendContract({
      address: ctx.deployment.collector!,
      abi: collectorAbi,
      functionName: 'collectBatch',
      args: [items],
      purpose: `batch:${batchId}`,
      beforeBroadcast: () => ctx.onStep?.('signed'),
    })
  } catch (error) {
    // Refused before sending (the estimate reverted): nothing can be in flight, release now.
    // Any other failure (the RPC went away mid-send) is left to recovery, which asks the chain.
    if (error instanceof ContractFunctionExecutionError) await release(ctx, batchId, ids)
    throw error
  }
  let hash = tx.hashes[0]!
  await ctx.db.$client.begin(async (t) => {
    await t`update settlement_batches set status = 'sent', tx_hash = ${hash}, tx_hashes = array_append(tx_hashes, ${hash}), updated_at = clock_timestamp() where id = ${batchId.toString()}`
    await t`update charges set tx_hash = ${hash}, updated_at = clock_timestamp() where id = any(${ids}::int8[]) and status = 'submitted'`
  })
  report.txHashes.push(hash)
  await ctx.onStep?.('sent')
  // A stuck transaction is replaced (same calldata and nonce, higher fees); every hash is
  // recorded first, and the collector's sequence numbers make it impossible for two to pull.
  const receipt = await wallet.waitFor(tx, {
    confirmations: ctx.confirmations,
    replaceAfterMs: ctx.replaceAfterMs,
    onReplace: async (replacement) => {
      await ctx.db.$client.begin(async (t) => {
        await t`update settlement_batches set tx_hash = ${replacement}, tx_hashes = array_append(tx_hashes, ${replacement}), updated_at = clock_timestamp() where id = ${batchId.toString()}`
        await t`update charges set tx_hash = ${replacement} where id = any(${ids}::int8[]) and status = 'submitted'`
      })
    },
  })
  if (!receipt) {
    // The nonce went to a transaction we never signed: nothing of this batch landed.
    await release(ctx, batchId, ids)
    return
  }
  hash = receipt.transactionHash
  report.gasUsed += receipt.gasUsed
  await ctx.onStep?.('receipt')
  if (receipt.status !== 'success') {
    // The whole call reverted (out of gas, operator removed): nothing was pulled; send again later.
    await release(ctx, batchId, ids)
    return
  }
  const byKey = new Map(charges.map((c) => [`${c.subscription_id}:${c.seq}`, c]))
  for (const log of parseEventLogs({ abi: collectorAbi, logs: receipt.logs })) {
    if (log.eventName === 'Collected') {
      const { seq } = unpackCollected(log.args.packed)
      const c = byKey.get(`${idOfKey(log.args.subscription)}:${seq}`)
      if (!c) continue
      byKey.delete(`${c.subscription_id}:${c.seq}`)
      await markChargeCollected(ctx.db, { chargeId: c.id.toString(), txHash: hash })
      report.collected++
    } else if (log.eventName === 'ChargeFailed') {
      const c = byKey.get(`${idOfKey(log.args.subscription)}:${log.args.seq}`)
      if (!c) continue
      byKey.delete(`${c.subscription_id}:${c.seq}`)
      await applyFailure(ctx, c, failureReasons[log.args.reason] ?? 'token_reverted', report)
    }
  }
  await ctx.db
    .$client`update settlement_batches set status = 'confirmed', gas_used = ${receipt.gasUsed.toString()}, updated_at = clock_timestamp() where id = ${batchId.toString()}`
}

/**
 * Reconciles batches a dead worker left behind (intent recorded, maybe sent, outcome not
 * recorded) with the chain: the collector's `lastSeq` says whether each charge was pulled;
 * pulled ones are marked collected with their transaction, the rest go back to `booked` and
 * are sent again with the same sequence number — which the collector accepts at most once.
 */
async function recoverOpenBatches(
  ctx: SettlementContext,
  p: { olderThanSeconds?: number } = {},
): Promise<number> {
  const open = await ctx.db.$client<{ id: bigint; charge_ids: bigint[] }[]>`
    select id, charge_ids from settlement_batches
    where status in ('intent', 'sent') and chain_id = ${ctx.deployment.chainId}
      and updated_at < clock_timestamp() - make_interval(secs => ${p.olderThanSeconds ?? 120})
    order by id`
  let recovered = 0
  for (const batch of open) {
    const charges = await ctx.db.$client<(ClaimedCharge & { status: string })[]>`
      select id, org_id, subscription_id, seq, window_index, amount, status from charges
      where id = any(${batch.charge_ids.map(String)}::int8[])`
    for (const c of charges) {
      if (c.status !== 'submitted') continue
      const last = await ctx.operator.readContract({
        address: ctx.deployment.collector!,
        abi: collectorAbi,
        functionName: 'lastSeq',
        args: [subscriptionKey(c.subscription_id)],
      })
      const found = last >= c.seq ? await findCollection(ctx, c.subscription_id, c.seq) : undefined
      if (found)
        await markChargeCollected(ctx.db, { chargeId: c.id.toString(), txHash: found.txHash })
      else
        await ctx.db
          .$client`update charges set status = 'booked', updated_at = clock_timestamp() where id = ${c.id.toString()} and status = 'submitted'`
      recovered++
    }
    await ctx.db
      .$client`update settlement_batches set status = 'reconciled', updated_at = clock_timestamp() where id = ${batch.id.toString()}`
    // Back to booked on a subscription canceled meanwhile: nothing can pull them any more.
    const canceled = await ctx.db.$client<{ org_id: string; subscription_id: string }[]>`
      select distinct c.org_id, c.subscription_id from charges c join subscriptions s on s.id = c.subscription_id
      where c.id = any(${batch.charge_ids.map(String)}::int8[]) and c.status = 'booked' and s.state = 'canceled'`
    for (const c of canceled)
      await resolveOwnerCancel(ctx, {
        orgId: c.org_id,
        subscriptionId: c.subscription_id,
        reason: 'canceled',
      })
  }
  return recovered
}

/**
 * One settlement pass (the worker's job, and `tollgate settle --once`): reconcile what a
 * crash left, book what is due, then collect in batches until nothing sendable is left.
 */
export async function settleOnce(
  ctx: SettlementContext,
  p: { orgIds?: string[]; recoverOlderThanSeconds?: number } = {},
): Promise<SettleReport> {
  const report: SettleReport = {
    recovered: 0,
    booked: 0,
    batches: 0,
    collected: 0,
    failed: [],
    txHashes: [],
    gasUsed: 0n,
    payeeBlacklisted: false,
    blocked: [],
  }
  report.recovered = await recoverOpenBatches(ctx, { olderThanSeconds: p.recoverOlderThanSeconds })
  report.booked = await bookDueCharges(ctx, { orgIds: p.orgIds })
  if (await isPayeeBlacklisted(ctx.operator, ctx.deployment)) {
    // Every pull would be declined, for gas: nothing is sent until the operator sorts it out.
    ctx.log?.error('the token blacklisted the payee: no collection can land, nothing is sent', {
      payee: ctx.deployment.payee,
    })
    report.payeeBlacklisted = true
    return report
  }
  const sent: string[] = []
  for (;;) {
    const claimed = await claimBatch(ctx, ctx.batchSize ?? 100, sent)
    if (!claimed) break
    for (const c of claimed.charges) sent.push(c.id.toString())
    report.batches++
    await ctx.onStep?.('claimed')
    await sendBatch(ctx, claimed.batchId, claimed.charges, report)
  }
  return report
}
