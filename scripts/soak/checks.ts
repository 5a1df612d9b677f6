import type { Address, PublicClient } from 'viem'
import { parseAbiItem } from 'viem'
import type { Deployment } from '../../src/chain/deployment.js'
import type { Db } from '../../src/db/client.js'
import type { Attempted } from './agents.js'

export type SoakFindings = {
  acked: number
  /** Acknowledged actions with no usage row, or whose row was voided. */
  lost: string[]
  /** Any key (acknowledged or not) with more than one usage row, or a usage row moved twice. */
  doubled: string[]
  /** `(subscription, seq)` collected more than once, in the ledger or on-chain. */
  seqTwice: string[]
  /** Charges, batches or subscriptions not at rest once the system settled. */
  stuck: string[]
  /** Collected in the ledger, and the USDC `Transfer`s to the payee on-chain. */
  ledgerCollected: bigint
  chainTransferred: bigint
}

const transfer = parseAbiItem(
  'event Transfer(address indexed from, address indexed to, uint256 value)',
)

/** What is not at rest: charges in flight, open batches, unconfirmed transactions. */
export async function unsettled(db: Db): Promise<string[]> {
  const rows = await db.$client<{ what: string }[]>`
    select 'charge ' || id || ' ' || status as what from charges
      where status not in ('collected', 'failed', 'written_off')
    union all
    select 'batch ' || id || ' ' || status from settlement_batches where status in ('intent', 'sent')
    union all
    select 'subscription ' || id || ' ' || state from subscriptions where state = 'pending'`
  return rows.map((r) => r.what)
}

/**
 * The soak's checks, against PostgreSQL and the chain directly (not through Tollgate's code):
 * every acknowledged action in the ledger once, none twice, each seq collected once, nothing
 * stuck, and the ledger's collected total against an independent sum of the token's
 * `Transfer` events to the payee.
 */
export async function checkSoak(p: {
  db: Db
  client: PublicClient
  deployment: Deployment
  attempts: Attempted[]
}): Promise<SoakFindings> {
  const sql = p.db.$client
  const usage = await sql<{ org_id: string; key: string; n: number; live: number }[]>`
    select org_id::text, idempotency_key as key, count(*)::int as n,
           count(*) filter (where status in ('recorded', 'committed'))::int as live
    from usage where idempotency_key is not null group by 1, 2`
  const byKey = new Map(usage.map((u) => [`${u.org_id}/${u.key}`, u]))
  const acked = p.attempts.filter((a) => a.outcome === 'acked')
  const lost = acked
    .filter((a) => (byKey.get(`${a.orgId}/${a.key}`)?.live ?? 0) !== 1)
    .map((a) => `${a.orgId}/${a.key}`)
  const doubled = usage.filter((u) => u.n > 1).map((u) => `${u.org_id}/${u.key} ×${u.n}`)
  const moved = await sql<{ usage_id: string; kind: string; n: number }[]>`
    select usage_id::text, kind, count(*)::int as n from ledger_entries
    where usage_id is not null group by 1, 2 having count(*) > 1`
  doubled.push(...moved.map((m) => `usage ${m.usage_id} ${m.kind} ×${m.n}`))

  const seqTwice = (
    await sql<{ what: string }[]>`
      select 'payment_history ' || subscription_id || ' seq ' || seq || ' ×' || count(*) as what
      from payment_history where event = 'Collected' group by subscription_id, seq having count(*) > 1
      union all
      select 'charges ' || subscription_id || ' seq ' || seq || ' ×' || count(*)
      from charges where status = 'collected' group by subscription_id, seq having count(*) > 1`
  ).map((r) => r.what)

  const [collected] = await sql<{ total: string }[]>`
    select coalesce(sum(amount), 0)::text as total from charges where status = 'collected'`
  const head = await p.client.getBlockNumber()
  const logs = await p.client.getLogs({
    address: p.deployment.usdc,
    event: transfer,
    args: { to: p.deployment.payee as Address },
    fromBlock: 0n,
    toBlock: head,
  })
  // On-chain, each collection is one Transfer to the payee: their count is the collections'.
  const collections = await sql<{ n: number }[]>`
    select count(*)::int as n from charges where status = 'collected'`
  if (logs.length !== collections[0]!.n)
    seqTwice.push(
      `${logs.length} transfers to the payee on-chain, ${collections[0]!.n} charges collected`,
    )
  return {
    acked: acked.length,
    lost,
    doubled,
    seqTwice,
    stuck: await unsettled(p.db),
    ledgerCollected: BigInt(collected!.total),
    chainTransferred: logs.reduce((s, l) => s + (l.args.value ?? 0n), 0n),
  }
}
