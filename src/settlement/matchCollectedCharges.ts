import { parseEventLogs, type TransactionReceipt } from 'viem'
import { collectorAbi, usdcAbi } from '../chain/abis.js'
import { findReceipt } from '../chain/findReceipt.js'
import type { LedgerMismatch } from '../ledger/index.js'
import { unpackCollected } from './context.js'
import type { ReconcileContext } from './reconcileContext.js'

type CollectedCharge = {
  id: bigint
  org_id: string
  subscription_id: string
  seq: number
  window_index: number
  amount: bigint
  tx_hash: string | null
  owner: string | null
}

type CollectedEvent = {
  subscription: string
  seq: number
  window: number
  amount: bigint
  logIndex: number
  claimed?: boolean
}

/** Receipts read at once: enough to hide latency, few enough for any RPC's rate limit. */
const PARALLEL = 8

/**
 * Every collected charge against the chain, one by one: its transaction's receipt must hold the
 * collector's `Collected` for the same subscription and seq, with the same window and amount,
 * preceded by the token's `Transfer` of that amount from the subscription's owner to the payee;
 * and the mirrored payment history, where it has indexed that log, must say the same. Reads
 * receipts only — no log scans, so no RPC range limit applies.
 */
export async function matchCollectedCharges(
  ctx: ReconcileContext,
  p: { orgId?: string },
): Promise<LedgerMismatch[]> {
  const org = p.orgId ?? null
  const charges = await ctx.db.$client<CollectedCharge[]>`
    select c.id, c.org_id, c.subscription_id, c.seq, c.window_index, c.amount, c.tx_hash, s.owner
    from charges c join subscriptions s on s.id = c.subscription_id
    where c.status = 'collected' and (${org}::uuid is null or c.org_id = ${org}::uuid)
    order by c.tx_hash, c.id`
  const out: LedgerMismatch[] = []
  const byTx = new Map<string, CollectedCharge[]>()
  for (const c of charges) {
    if (!c.tx_hash) {
      out.push(row(c, 'tx_hash', 'a collected charge names its transaction', '(a hash)', '(none)'))
      continue
    }
    const key = c.tx_hash.toLowerCase()
    byTx.set(key, [...(byTx.get(key) ?? []), c])
  }
  const txs = [...byTx.keys()]
  for (let i = 0; i < txs.length; i += PARALLEL) {
    const slice = txs.slice(i, i + PARALLEL)
    const receipts = await Promise.all(slice.map((hash) => findReceipt(ctx.client, hash)))
    for (const [k, hash] of slice.entries())
      out.push(...(await matchTransaction(ctx, byTx.get(hash)!, receipts[k])))
  }
  return out
}

function row(
  c: CollectedCharge,
  field: string,
  check: string,
  chain: string | number | bigint,
  ledger: string | number | bigint,
  extra: Partial<LedgerMismatch> = {},
): LedgerMismatch {
  return {
    orgId: c.org_id,
    check,
    expected: String(chain),
    actual: String(ledger),
    table: 'charges',
    id: c.id.toString(),
    field,
    ...extra,
  }
}

async function matchTransaction(
  ctx: ReconcileContext,
  charges: CollectedCharge[],
  receipt: TransactionReceipt | undefined,
): Promise<LedgerMismatch[]> {
  const out: LedgerMismatch[] = []
  if (receipt?.status !== 'success') {
    for (const c of charges)
      out.push(
        row(
          c,
          'tx_hash',
          'the collecting transaction is on the chain',
          receipt ? 'reverted' : 'no such transaction',
          c.tx_hash!,
          // A transaction the chain no longer has: it went back past the confirmation depth.
          receipt ? {} : { chainBehind: true },
        ),
      )
    return out
  }
  const { collector, usdc, payee } = ctx.deployment
  const collected: CollectedEvent[] = parseEventLogs({
    abi: collectorAbi,
    eventName: 'Collected',
    logs: receipt.logs.filter((l) => l.address.toLowerCase() === collector!.toLowerCase()),
  }).map((e) => ({
    subscription: e.args.subscription.slice(-32).toLowerCase(),
    logIndex: e.logIndex,
    ...unpackCollected(e.args.packed),
  }))
  const transfers = parseEventLogs({
    abi: usdcAbi,
    eventName: 'Transfer',
    logs: receipt.logs.filter((l) => l.address.toLowerCase() === usdc.toLowerCase()),
  }).filter((t) => t.args.to?.toLowerCase() === payee.toLowerCase())
  // Exact (subscription, seq) pairs first; a charge left over is compared with the event of
  // its subscription left over, so a tampered seq shows as a seq, not as a missing event.
  const pairs: [CollectedCharge, CollectedEvent | undefined][] = []
  const left: CollectedCharge[] = []
  for (const c of charges) {
    const e = collected.find(
      (x) => !x.claimed && x.subscription === c.subscription_id.toLowerCase() && x.seq === c.seq,
    )
    if (e) {
      e.claimed = true
      pairs.push([c, e])
    } else left.push(c)
  }
  for (const c of left) {
    const e = collected.find(
      (x) => !x.claimed && x.subscription === c.subscription_id.toLowerCase(),
    )
    if (e) e.claimed = true
    pairs.push([c, e])
  }
  const [cursor] = await ctx.db.$client<{ block_number: bigint }[]>`
    select block_number from chain_cursors where chain_id = ${ctx.deployment.chainId}`
  const mirrored = await ctx.db.$client<
    {
      id: bigint
      subscription_id: string
      seq: number
      window_index: number
      amount: bigint
      log_index: number
    }[]
  >`
    select id, subscription_id, seq, window_index, amount, log_index from payment_history
    where chain_id = ${ctx.deployment.chainId} and event = 'Collected' and lower(tx_hash) = ${receipt.transactionHash.toLowerCase()}`
  for (const [c, e] of pairs) {
    if (!e) {
      out.push(
        row(
          c,
          'tx_hash',
          'its transaction holds the Collected event of its subscription',
          'no Collected for this subscription in that transaction',
          c.tx_hash!,
        ),
      )
      continue
    }
    if (e.seq !== c.seq) out.push(row(c, 'seq', 'seq = the Collected event', e.seq, c.seq))
    if (e.window !== c.window_index)
      out.push(row(c, 'window_index', 'window = the Collected event', e.window, c.window_index))
    if (e.amount !== c.amount)
      out.push(row(c, 'amount', 'amount = the Collected event', e.amount, c.amount))
    // The collector's transferFrom emits the token's Transfer just before its Collected.
    const t = transfers.filter((x) => x.logIndex < e.logIndex).at(-1)
    if (!t || t.args.value !== c.amount)
      out.push(
        row(
          c,
          'amount',
          'amount = the USDC Transfer to the payee',
          t?.args.value ?? 'none',
          c.amount,
        ),
      )
    if (!t || t.args.from?.toLowerCase() !== c.owner?.toLowerCase())
      out.push({
        ...row(
          c,
          'owner',
          `owner = the payer of charge ${c.id}'s USDC Transfer`,
          t?.args.from ?? 'none',
          c.owner ?? '(none)',
        ),
        table: 'subscriptions',
        id: c.subscription_id,
      })
    // The mirror: indexed rows must say what the chain says.
    if (cursor && receipt.blockNumber <= cursor.block_number) {
      const m = mirrored.find((x) => x.log_index === e.logIndex)
      const mirror = { table: 'payment_history', id: m?.id.toString() ?? '(none)' }
      if (!m)
        out.push(
          row(
            c,
            'log_index',
            'the indexed history holds the Collected event',
            e.logIndex,
            'none',
            mirror,
          ),
        )
      else if (
        m.subscription_id.toLowerCase() !== e.subscription ||
        m.seq !== e.seq ||
        m.window_index !== e.window ||
        m.amount !== e.amount
      )
        out.push(
          row(
            c,
            'amount',
            'the indexed history = the Collected event (subscription, seq, window, amount)',
            `${e.subscription} ${e.seq} ${e.window} ${e.amount}`,
            `${m.subscription_id} ${m.seq} ${m.window_index} ${m.amount}`,
            mirror,
          ),
        )
    }
  }
  return out
}
