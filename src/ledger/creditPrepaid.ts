import { ValidationError } from '../core/errors.js'
import { appendEntries, entryFor, lockAccount, saveAccounts } from './accounts.js'
import { IdempotencyConflictError } from './errors.js'
import { nowMicros, type Sql, toTimestamp } from './sql.js'

/**
 * Where prepaid credit comes from: a top-up pulled through the collector, an x402 payment, the
 * bonus of a package (its own line, never redeemable), an operator's credit.
 */
export const PREPAID_SOURCES = ['topup', 'x402', 'bonus', 'operator'] as const
export type PrepaidSource = (typeof PREPAID_SOURCES)[number]

export type CreditPrepaidParameters = {
  orgId: string
  /** Micro-credits, more than zero. */
  amount: bigint
  source: PrepaidSource
  /** What paid it, unique per source (a top-up's id, an authorization's nonce): the idempotency key. */
  reference: string
  /** When it is credited (microseconds since the epoch); default now. */
  at?: bigint
}

export type CreditPrepaidReturnType = {
  orgId: string
  source: PrepaidSource
  reference: string
  amountMicros: string
  /** The org's prepaid balance right after this credit (held included). */
  balanceAfterMicros: string
  /** The ledger entry the credit made (`prepaid_<source>`). */
  entrySeq: string
  /** True when (source, reference) was credited before: nothing moved this time. */
  replayed: boolean
}

type CreditRow = {
  org_id: string
  amount: bigint
  balance_after: bigint
  entry_seq: bigint
}

/**
 * Credits an org's prepaid balance: appends an immutable `prepaid_<source>` ledger entry with
 * the balances after it and records the credit, once per (`source`, `reference`) — a second
 * call with the same pair returns the first outcome and moves nothing (another org or amount
 * for the pair is an `IdempotencyConflictError`). Runs in the caller's transaction (`tx`), so
 * whatever paid for the credit commits with it; the org's account row is locked first, as the
 * meter locks it, so usage metered after this commits sees the balance (paid work resumes).
 *
 * @example
 * await db.$client.begin((tx) => creditPrepaid(tx, { orgId, amount: 10_000_000n, source: 'topup', reference: topUpId }))
 */
export async function creditPrepaid(
  tx: Sql,
  p: CreditPrepaidParameters,
): Promise<CreditPrepaidReturnType> {
  if (p.amount <= 0n) throw new ValidationError('a prepaid credit must be more than zero')
  if (p.reference.trim() === '') throw new ValidationError('a prepaid credit needs a reference')
  const account = await lockAccount(tx, p.orgId)
  const outcome = (r: CreditRow, replayed: boolean): CreditPrepaidReturnType => ({
    orgId: r.org_id,
    source: p.source,
    reference: p.reference,
    amountMicros: r.amount.toString(),
    balanceAfterMicros: r.balance_after.toString(),
    entrySeq: r.entry_seq.toString(),
    replayed,
  })
  const [prior] = await tx<CreditRow[]>`
    select org_id, amount, balance_after, entry_seq from prepaid_credits
    where source = ${p.source} and reference = ${p.reference}`
  if (prior) {
    if (prior.org_id !== p.orgId || prior.amount !== p.amount)
      throw new IdempotencyConflictError(`${p.source}:${p.reference}`)
    return outcome(prior, true)
  }
  const at = p.at ?? nowMicros()
  account.prepaid += p.amount
  const entry = entryFor(account, {
    kind: `prepaid_${p.source}`,
    amount: p.amount,
    at,
    memo: p.reference,
  })
  await appendEntries(tx, [entry])
  await saveAccounts(tx, [account])
  const [row] = await tx<CreditRow[]>`
    insert into prepaid_credits (org_id, source, reference, amount, balance_after, entry_seq, created_at)
    values (${p.orgId}, ${p.source}, ${p.reference}, ${p.amount.toString()}, ${account.prepaid.toString()},
      ${entry.seq.toString()}, ${toTimestamp(at)})
    returning org_id, amount, balance_after, entry_seq`
  return outcome(row!, false)
}
