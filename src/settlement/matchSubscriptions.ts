import { collectorAbi, usdcAbi } from '../chain/abis.js'
import type { LedgerMismatch } from '../ledger/index.js'
import { subscriptionKey } from '../subscriptions/typedData.js'
import type { ReconcileContext } from './reconcileContext.js'

type SubscriptionRow = {
  id: string
  org_id: string
  owner: string
  state: string
  allowance: bigint
  drawn: bigint
  monthly_limit: bigint | null
  window_start: number | null
  window_seconds: number
  terms_nonce: number
  last_seq: number
  collected_seq: number
  in_flight: number
  in_flight_amount: bigint
  open: number
  held: boolean
}

const PARALLEL = 8

/**
 * Each subscription row against the collector's own state for it: status, owner, terms (nonce,
 * limit, period, start), last seq (equal when no charge is open) and total collected; and, when
 * nothing is in flight, what can still be pulled: the token allowance the owner gave the
 * collector, or the cap less what was collected when that is lower. A last seq on the chain below the ledger's last
 * collected one means the chain went back.
 */
export async function matchSubscriptions(
  ctx: ReconcileContext,
  p: { orgId?: string },
): Promise<LedgerMismatch[]> {
  const org = p.orgId ?? null
  const subs = await ctx.db.$client<SubscriptionRow[]>`
    select s.id, s.org_id, s.owner, s.state, s.allowance, s.drawn, s.monthly_limit,
      floor(extract(epoch from s.window_start))::int8::float8 as window_start,
      s.window_seconds, s.terms_nonce, s.last_seq,
      coalesce((select max(c.seq) from charges c where c.subscription_id = s.id and c.status = 'collected'), 0)::int4 as collected_seq,
      (select count(*) from charges c where c.subscription_id = s.id and c.status = 'submitted')::int4 as in_flight,
      coalesce((select sum(c.amount) from charges c where c.subscription_id = s.id and c.status = 'submitted'), 0)::int8 as in_flight_amount,
      (select count(*) from charges c where c.subscription_id = s.id
         and c.status in ('booked', 'failed', 'submitted'))::int4 as open,
      exists (select 1 from held_authorizations h where h.subscription_id = s.id
              and h.submitted_at is null and h.dropped_at is null) as held
    from subscriptions s
    where s.owner is not null and (${org}::uuid is null or s.org_id = ${org}::uuid)
    order by s.org_id, s.id`
  const out: LedgerMismatch[] = []
  for (let i = 0; i < subs.length; i += PARALLEL) {
    const slice = subs.slice(i, i + PARALLEL)
    for (const found of await Promise.all(slice.map((s) => matchOne(ctx, s)))) out.push(...found)
  }
  return out
}

async function matchOne(ctx: ReconcileContext, s: SubscriptionRow): Promise<LedgerMismatch[]> {
  const out: LedgerMismatch[] = []
  const at = (
    field: string,
    check: string,
    chain: string | number | bigint,
    ledger: string | number | bigint,
    chainBehind?: boolean,
  ) =>
    out.push({
      orgId: s.org_id,
      check,
      expected: String(chain),
      actual: String(ledger),
      table: 'subscriptions',
      id: s.id,
      field,
      ...(chainBehind ? { chainBehind } : {}),
    })
  const onChain = await ctx.client.readContract({
    address: ctx.deployment.collector!,
    abi: collectorAbi,
    functionName: 'getSubscription',
    args: [subscriptionKey(s.id)],
  })
  const status = Number(onChain.status)
  if (status === 0) {
    // Never sent (a held authorization, or authorized off-chain only): fine while nothing was
    // collected; a subscription that collected and is gone from the chain is not.
    if (s.drawn > 0n || s.collected_seq > 0)
      at('drawn', 'the collector knows the subscription', 'unknown subscription', s.drawn, true)
    return out
  }
  if ((status === 2) !== (s.state === 'canceled'))
    at(
      'state',
      'canceled on the collector = canceled in the ledger',
      status === 2 ? 'canceled' : 'active',
      s.state,
    )
  if (onChain.owner.toLowerCase() !== s.owner.toLowerCase())
    at('owner', 'owner = the collector', onChain.owner, s.owner)
  // Charges sent and not yet confirmed may or may not be mined: the collector may be ahead of
  // `drawn` by them, never by more, never behind.
  const total = BigInt(onChain.totalCollected)
  if (total < s.drawn || total > s.drawn + s.in_flight_amount)
    at('drawn', `drawn = collector totalCollected (${s.id})`, total, s.drawn)
  const lastSeq = Number(onChain.lastSeq)
  if (lastSeq < s.collected_seq)
    // The chain lost a collection (gone back), or a charge row's seq is wrong: the charge
    // matcher tells which.
    at('last_seq', 'last collected seq = the collector lastSeq', lastSeq, s.collected_seq)
  else if (lastSeq > s.last_seq)
    at('last_seq', 'every seq the collector took was booked', lastSeq, s.last_seq)
  else if (status === 1 && s.open === 0 && lastSeq !== s.last_seq)
    // Nothing owed or in flight on a live subscription: every seq the ledger allocated was
    // collected or retired there.
    at('last_seq', 'last seq = the collector lastSeq (no charge open)', lastSeq, s.last_seq)
  if (Number(onChain.termsNonce) !== s.terms_nonce)
    at('terms_nonce', 'terms nonce = the collector', onChain.termsNonce, s.terms_nonce)
  const limit = onChain.limit === 0n ? null : BigInt(onChain.limit)
  if (limit !== s.monthly_limit)
    at('monthly_limit', 'limit = the collector', limit ?? 'none', s.monthly_limit ?? 'none')
  if (Number(onChain.period) !== s.window_seconds)
    at('window_seconds', 'window length = the collector period', onChain.period, s.window_seconds)
  const start = s.window_start === null ? null : Number(s.window_start)
  if (Number(onChain.start) !== start)
    at('window_start', 'window start = the collector', onChain.start, start ?? 'none')
  // What can still be pulled: the USDC allowance to the collector, or less when the lifetime cap
  // leaves less. A lapsed or re-authorizing row keeps its last allowance until the owner signs
  // again.
  if (status === 1 && s.state === 'active' && s.in_flight === 0 && !s.held) {
    const allowance = await ctx.client.readContract({
      address: ctx.deployment.usdc,
      abi: usdcAbi,
      functionName: 'allowance',
      args: [s.owner as `0x${string}`, ctx.deployment.collector!],
    })
    const cap = BigInt(onChain.cap)
    const underCap = cap > total ? cap - total : 0n
    if (underCap < allowance && underCap !== s.allowance)
      at(
        'allowance',
        `allowance = the collector cap ${cap} less totalCollected ${total}`,
        underCap,
        s.allowance,
      )
    else if (underCap >= allowance && allowance !== s.allowance)
      at('allowance', 'allowance = the USDC allowance to the collector', allowance, s.allowance)
  }
  return out
}
