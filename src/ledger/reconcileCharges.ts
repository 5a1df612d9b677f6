import type { Db } from '../db/client.js'
import type { LedgerMismatch } from './reconcileLedger.js'

type ChargeWithEntries = {
  id: bigint
  org_id: string
  subscription_id: string
  status: string
  amount: bigint
  tx_hash: string | null
  failure_reason: string | null
  booked: bigint[]
  refunded: bigint
  collected: bigint[]
  collected_memo: (string | null)[]
  written_off: bigint[]
  /** `usage` (entries charge_booked, charge_collected, write_off) or `topup` (topup_*). */
  kind: 'usage' | 'topup'
  /** What its collection credited to the prepaid balance (a top-up's, once). */
  credited: bigint
}

/**
 * Each charge row against its own ledger entries, one by one: booked exactly once for its
 * amount; collected (with its transaction) exactly when its status says so; written off
 * exactly when its status says so; a failed one names its reason. And each subscription's
 * `drawn` against the collection entries of its charges. Returns every difference, naming the row.
 */
export async function reconcileCharges(
  db: Db,
  p: { orgId?: string } = {},
): Promise<LedgerMismatch[]> {
  const org = p.orgId ?? null
  const [charges, subs] = await db.$client.begin(
    'isolation level repeatable read read only',
    (tx) => [
      tx<ChargeWithEntries[]>`
        select c.id, c.org_id, c.subscription_id, c.status, c.amount, c.tx_hash, c.failure_reason, c.kind,
          coalesce(array_agg(e.amount) filter (where e.kind = (case c.kind when 'topup' then 'topup_booked' else 'charge_booked' end)), '{}') as booked,
          coalesce(sum(e.amount) filter (where e.kind = 'refund_booked'), 0)::int8 as refunded,
          coalesce(array_agg(e.amount) filter (where e.kind = (case c.kind when 'topup' then 'topup_collected' else 'charge_collected' end)), '{}') as collected,
          coalesce(array_agg(e.memo) filter (where e.kind = (case c.kind when 'topup' then 'topup_collected' else 'charge_collected' end)), '{}') as collected_memo,
          coalesce(array_agg(e.amount) filter (where e.kind = (case c.kind when 'topup' then 'topup_written_off' else 'write_off' end)), '{}') as written_off,
          (select coalesce(sum(p.amount), 0) from prepaid_credits p
            where p.source = 'topup' and p.reference = 'charge:' || c.id)::int8 as credited
        from charges c left join ledger_entries e on e.org_id = c.org_id and e.charge_id = c.id
        where ${org}::uuid is null or c.org_id = ${org}::uuid
        group by c.id order by c.id`,
      tx<{ id: string; org_id: string; drawn: bigint; charged: bigint }[]>`
        select s.id, s.org_id, s.drawn,
          coalesce((select sum(e.amount) from ledger_entries e join charges c on c.id = e.charge_id
            where c.subscription_id = s.id and e.org_id = s.org_id and e.kind in ('charge_collected', 'topup_collected')), 0)::int8 as charged
        from subscriptions s
        where ${org}::uuid is null or s.org_id = ${org}::uuid
        order by s.id`,
    ],
  )
  const out: LedgerMismatch[] = []
  for (const c of charges) {
    const id = c.id.toString()
    const at = (field: string, check: string, expected: string, actual: string) =>
      out.push({ orgId: c.org_id, check, expected, actual, table: 'charges', id, field })
    const one = (list: bigint[]) => (list.length === 1 ? list[0]!.toString() : list.join('+'))
    // A refund netted against a booked charge made it smaller (its refund_booked entries).
    if (c.booked.length !== 1 || c.booked[0]! + c.refunded !== c.amount)
      at(
        'amount',
        'charge amount = its charge_booked entry + its refund_booked entries',
        c.booked.length === 1 ? (c.booked[0]! + c.refunded).toString() : one(c.booked),
        c.amount.toString(),
      )
    const collected = c.status === 'collected'
    if (collected ? c.collected.length !== 1 || c.collected[0] !== c.amount : c.collected.length)
      at(
        collected ? 'amount' : 'status',
        'collected charge = its one charge_collected entry',
        collected ? one(c.collected) : `collected ${one(c.collected)}`,
        collected ? c.amount.toString() : c.status,
      )
    // The collection's entry carries the transaction it was collected in.
    if (collected && c.collected.length === 1 && c.collected_memo[0] !== c.tx_hash)
      at(
        'tx_hash',
        'collected charge tx = its charge_collected entry',
        String(c.collected_memo[0]),
        String(c.tx_hash),
      )
    const writtenOff = c.status === 'written_off'
    if (
      writtenOff
        ? c.written_off.length !== 1 || c.written_off[0] !== c.amount
        : c.written_off.length
    )
      at(
        writtenOff ? 'amount' : 'status',
        'written-off charge = its one write_off entry',
        writtenOff ? one(c.written_off) : `written_off ${one(c.written_off)}`,
        writtenOff ? c.amount.toString() : c.status,
      )
    const credit = c.kind === 'topup' && collected ? c.amount : 0n
    if (c.credited !== credit)
      at(
        'amount',
        'a collected top-up is credited to the prepaid balance once, for its amount',
        credit.toString(),
        c.credited.toString(),
      )
    if ((c.status === 'failed' || writtenOff) && !c.failure_reason)
      at('failure_reason', `a ${c.status} charge names its reason`, '(a reason)', '(none)')
  }
  for (const s of subs) {
    if (s.drawn !== s.charged)
      out.push({
        orgId: s.org_id,
        check: 'drawn = Σ collection entries of its charges (charge_collected, topup_collected)',
        expected: s.charged.toString(),
        actual: s.drawn.toString(),
        table: 'subscriptions',
        id: s.id,
        field: 'drawn',
      })
  }
  return out
}
