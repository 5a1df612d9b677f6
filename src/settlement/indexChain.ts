import { parseEventLogs } from 'viem'
import { collectorAbi, usdcAbi } from '../chain/abis.js'
import { txUrl } from '../chain/explorer.js'
import { defaultMaxLogRange } from '../chain/getLogsInRanges.js'
import { failureReasons, type SettlementContext, unpackCollected } from './context.js'

/** How far back a reorg may reach before we re-read from scratch; Base reorgs are far shallower. */
const REORG_WINDOW = 64n

export type IndexReport = {
  from: bigint
  to: bigint
  inserted: number
  rolledBack: number
  /** The block last read (a confirmed one) is gone: the chain went back past the confirmation depth. */
  chainBehind?: string
}

/**
 * Mirrors the collector's `Collected`, `ChargeFailed`, `Authorized` (amount = the allowance set)
 * and `Canceled` (failure_reason = by_signature | by_owner) events, and the token's `Transfer`
 * events to the payee (paired with their collection), into `payment_history`, up to
 * `confirmations` blocks behind the head. The cursor stores the hash of the last block read:
 * when the chain's block at that height has another hash, a reorg happened, and every row
 * from the reorg window up is deleted and read again — no lost, doubled or phantom rows.
 */
export async function indexChain(ctx: SettlementContext): Promise<IndexReport> {
  const { db, operator: client, deployment } = ctx
  const chainId = deployment.chainId
  const head = await client.getBlockNumber({ cacheTime: 0 })
  const safe = head - BigInt(ctx.confirmations > 0 ? ctx.confirmations - 1 : 0)
  const start = BigInt(deployment.blocks.collector ?? 0)
  const [cursor] = await db.$client<{ block_number: bigint; block_hash: string }[]>`
    select block_number, block_hash from chain_cursors where chain_id = ${chainId}`
  let from = cursor ? cursor.block_number + 1n : start
  let rolledBack = 0
  let chainBehind: string | undefined
  if (cursor) {
    const block = await client.getBlock({ blockNumber: cursor.block_number }).catch(() => undefined)
    if (!block || block.hash !== cursor.block_hash) {
      // The cursor only ever reaches confirmed blocks: losing one is never routine. The mirror
      // re-reads below; the ledger's collections since then may be gone, and nothing here can
      // bring them back — say so loudly, once, for `tollgate reconcile` to name them.
      chainBehind = `The chain is behind the ledger: block ${cursor.block_number}, indexed as confirmed, ${block ? 'has another hash now' : `is beyond the chain's head ${head}`} — a reorg deeper than the confirmation depth, or a chain restored from an older state; run \`tollgate reconcile\`.`
      ctx.log?.error(chainBehind, { chainId, block: cursor.block_number.toString() })
      // Reorg (or a chain reset): forget the window below the cursor and read it again.
      const back = cursor.block_number > REORG_WINDOW ? cursor.block_number - REORG_WINDOW : start
      from = back < start ? start : back
      const deleted = await db.$client`
        delete from payment_history where chain_id = ${chainId} and block_number >= ${from.toString()}`
      rolledBack = deleted.count
    }
  }
  if (from > safe) {
    if (rolledBack > 0) await db.$client`delete from chain_cursors where chain_id = ${chainId}`
    return { from, to: safe, inserted: 0, rolledBack, ...(chainBehind ? { chainBehind } : {}) }
  }
  let inserted = 0
  // Bounded ranges: public RPCs refuse getLogs over too many blocks.
  const span = ctx.maxLogRange ?? defaultMaxLogRange
  for (let lo = from; lo <= safe; lo += span) {
    const hi = lo + span - 1n < safe ? lo + span - 1n : safe
    inserted += await indexRange(ctx, lo, hi)
  }
  return { from, to: safe, inserted, rolledBack, ...(chainBehind ? { chainBehind } : {}) }
}

const usdcTransfer = usdcAbi.find(
  (x): x is Extract<(typeof usdcAbi)[number], { type: 'event'; name: 'Transfer' }> =>
    x.type === 'event' && x.name === 'Transfer',
)!

type HistoryRow = Record<string, string | number | null>

/** Reads [lo, hi], writes its rows and moves the cursor to hi, in one transaction. */
async function indexRange(ctx: SettlementContext, lo: bigint, hi: bigint): Promise<number> {
  const { db, operator: client, deployment } = ctx
  const chainId = deployment.chainId
  const [logs, transfers] = await Promise.all([
    client.getLogs({ address: deployment.collector!, fromBlock: lo, toBlock: hi }),
    // The token's own record of what reached the payee: every Transfer to it.
    client.getLogs({
      address: deployment.usdc,
      event: usdcTransfer,
      args: { to: deployment.payee },
      fromBlock: lo,
      toBlock: hi,
    }),
  ])
  const events = parseEventLogs({ abi: collectorAbi, logs })
  const rows: HistoryRow[] = []
  const blockTimes = new Map<bigint, Date>()
  const timeOf = async (n: bigint) => {
    if (!blockTimes.has(n)) {
      const b = await client.getBlock({ blockNumber: n })
      blockTimes.set(n, new Date(Number(b.timestamp) * 1000))
    }
    return blockTimes.get(n)!.toISOString()
  }
  const collectedIn = new Map<
    string,
    { subscription: string; seq: number; window: number; amount: bigint; logIndex: number }[]
  >()
  for (const e of events) {
    if (
      e.eventName !== 'Collected' &&
      e.eventName !== 'ChargeFailed' &&
      e.eventName !== 'Authorized' &&
      e.eventName !== 'Canceled'
    )
      continue
    const base = {
      chain_id: chainId,
      subscription_id: e.args.subscription.slice(-32),
      tx_hash: e.transactionHash,
      block_number: e.blockNumber.toString(),
      block_hash: e.blockHash,
      log_index: e.logIndex,
      block_time: await timeOf(e.blockNumber),
      explorer_url: txUrl(chainId, e.transactionHash),
      payer: null,
    }
    if (e.eventName === 'Collected') {
      const c = unpackCollected(e.args.packed)
      const list = collectedIn.get(e.transactionHash) ?? []
      list.push({
        subscription: base.subscription_id,
        seq: c.seq,
        window: c.window,
        amount: c.amount,
        logIndex: e.logIndex,
      })
      collectedIn.set(e.transactionHash, list)
      rows.push({
        ...base,
        event: 'Collected',
        seq: c.seq,
        window_index: c.window,
        amount: c.amount.toString(),
        total_collected: c.totalCollected.toString(),
        failure_reason: null,
      })
    } else if (e.eventName === 'Authorized') {
      // The allowance the owner's permit set; seq and window do not apply (0).
      rows.push({
        ...base,
        event: 'Authorized',
        seq: 0,
        window_index: 0,
        amount: e.args.allowance.toString(),
        total_collected: null,
        failure_reason: null,
      })
    } else if (e.eventName === 'Canceled') {
      rows.push({
        ...base,
        event: 'Canceled',
        seq: 0,
        window_index: 0,
        amount: '0',
        total_collected: null,
        failure_reason: e.args.bySignature ? 'by_signature' : 'by_owner',
      })
    } else {
      rows.push({
        ...base,
        event: 'ChargeFailed',
        seq: e.args.seq,
        window_index: e.args.window,
        amount: e.args.amount.toString(),
        total_collected: null,
        failure_reason: failureReasons[e.args.reason] ?? String(e.args.reason),
      })
    }
  }
  // A Transfer to the payee names no subscription: pair it with the collection that follows it
  // in the same transaction (same payer, same amount). One that pairs with none (someone paid
  // the payee directly) is kept with an empty subscription, so the mirror holds every transfer.
  const owners = new Map<string, string>()
  const subIds = [...new Set([...collectedIn.values()].flat().map((c) => c.subscription))]
  if (subIds.length > 0) {
    for (const r of await db.$client<{ id: string; owner: string | null }[]>`
      select id, owner from subscriptions where id = any(${subIds})`)
      if (r.owner) owners.set(r.id, r.owner.toLowerCase())
  }
  for (const t of transfers) {
    const from = t.args.from!.toLowerCase()
    const candidates = collectedIn.get(t.transactionHash) ?? []
    const k = candidates.findIndex(
      (c) =>
        c.logIndex > t.logIndex && c.amount === t.args.value && owners.get(c.subscription) === from,
    )
    const match = k >= 0 ? candidates.splice(k, 1)[0] : undefined
    rows.push({
      chain_id: chainId,
      event: 'Transfer',
      subscription_id: match?.subscription ?? '',
      seq: match?.seq ?? 0,
      window_index: match?.window ?? 0,
      amount: (t.args.value ?? 0n).toString(),
      total_collected: null,
      failure_reason: null,
      tx_hash: t.transactionHash,
      block_number: t.blockNumber.toString(),
      block_hash: t.blockHash,
      log_index: t.logIndex,
      block_time: await timeOf(t.blockNumber),
      explorer_url: txUrl(chainId, t.transactionHash),
      payer: from,
    })
  }
  const toBlock = await client.getBlock({ blockNumber: hi })
  await db.$client.begin(async (tx) => {
    if (rows.length > 0) {
      await tx`insert into payment_history ${tx(rows)} on conflict (chain_id, tx_hash, log_index) do nothing`
    }
    await tx`
      insert into chain_cursors (chain_id, block_number, block_hash) values (${chainId}, ${hi.toString()}, ${toBlock.hash})
      on conflict (chain_id) do update set block_number = excluded.block_number, block_hash = excluded.block_hash, updated_at = clock_timestamp()`
  })
  return rows.length
}

/** One row of the on-chain payment history, as pages and the CLI show it. */
export type PaymentEvent = 'Collected' | 'ChargeFailed' | 'Authorized' | 'Canceled' | 'Transfer'

export type PaymentRow = {
  event: PaymentEvent
  subscriptionId: string
  seq: number
  windowIndex: number
  amount: bigint
  failureReason: string | null
  txHash: string
  blockNumber: bigint
  blockTime: Date | null
  explorerUrl: string | null
}

/**
 * The payment history of one subscription (or of every subscription an org ever had), newest
 * first: charges (`Collected`, `ChargeFailed`) unless `events` asks for others too.
 */
export async function listPayments(
  db: SettlementContext['db'],
  p: { subscriptionId?: string; orgId?: string; limit?: number; events?: PaymentEvent[] },
): Promise<PaymentRow[]> {
  const events = p.events ?? ['Collected', 'ChargeFailed']
  const rows = await db.$client<Record<string, unknown>[]>`
    select event, subscription_id, seq, window_index, amount, failure_reason, tx_hash, block_number, block_time, explorer_url
    from payment_history
    where event = any(${events}) and (${p.subscriptionId ?? null}::text is null or subscription_id = ${p.subscriptionId ?? null})
      and (${p.orgId ?? null}::uuid is null or subscription_id in (select id from subscriptions where org_id = ${p.orgId ?? null}::uuid))
    order by block_number desc, log_index desc
    limit ${p.limit ?? 100}`
  return rows.map((r) => ({
    event: r.event as PaymentRow['event'],
    subscriptionId: r.subscription_id as string,
    seq: r.seq as number,
    windowIndex: r.window_index as number,
    amount: r.amount as bigint,
    failureReason: r.failure_reason as string | null,
    txHash: r.tx_hash as string,
    blockNumber: r.block_number as bigint,
    blockTime: r.block_time as Date | null,
    explorerUrl: r.explorer_url as string | null,
  }))
}
