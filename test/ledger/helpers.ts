import { randomBytes, randomUUID } from 'node:crypto'
import { loadConfig } from '../../src/config/index.js'
import type { Db } from '../../src/db/client.js'
import { bookCharges, createMeter, listLedgerEntries } from '../../src/ledger/index.js'
import { authorizeSubscription } from '../../src/subscriptions/state/authorizeSubscription.js'
import { openBillingAccount } from '../support/openBillingAccount.js'

export const config = loadConfig({
  PUBLIC_BASE_URL: 'https://tollgate.test',
  DASHBOARD_URL: 'https://dash.tollgate.test',
})

/** A fresh org with its billing account: pending, with `credit` micro-credits of voucher. */
export async function newOrg(db: Db, credit = 2_000_000n) {
  const orgId = randomUUID()
  const { subscriptionId } = await openBillingAccount(db, { orgId, signupCreditMicros: credit })
  return { orgId, subscriptionId }
}

/** A fresh org, authorized (active) with `allowance` and an optional monthly limit. */
export async function activeOrg(
  db: Db,
  p: { credit?: bigint; allowance: bigint; monthlyLimit?: bigint | null; windowSeconds?: number },
) {
  const org = await newOrg(db, p.credit ?? 0n)
  await authorizeSubscription(db, {
    orgId: org.orgId,
    subscriptionId: org.subscriptionId,
    owner: '0x00000000000000000000000000000000000000aa',
    allowance: p.allowance,
    monthlyLimit: p.monthlyLimit ?? null,
    windowSeconds: p.windowSeconds,
  })
  return org
}

export const makeMeter = (db: Db, clock?: () => bigint) =>
  createMeter(db, { rateCard: config.rateCard, product: config.product, clock })

/** An API key row of the org (budgets are set on keys that exist in it). */
export async function newKey(db: Db, orgId: string) {
  const [row] = await db.$client<{ id: string }[]>`
    insert into api_keys (org_id, key_hash, prefix) values (${orgId}, ${randomBytes(32).toString('hex')}, 'tg_live_x')
    returning id`
  return row!.id
}

/** An active org with `n` comments (5,000 each) metered and booked into one charge. */
export async function chargedOrg(db: Db, n: number) {
  const org = await activeOrg(db, { allowance: 100_000_000n })
  const meter = makeMeter(db)
  const usageIds: string[] = []
  for (let i = 0; i < n; i++)
    usageIds.push((await meter.meter({ orgId: org.orgId, action: 'save_comment' })).usageId)
  await meter.close()
  const [charge] = await bookCharges(db, { orgId: org.orgId })
  return { ...org, usageIds, charge: charge! }
}

/** The first instant (UTC) of the month `back` months before this one. */
export function monthStart(back: number) {
  const now = new Date()
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1))
}

/** `YYYY-MM` of `d`. */
export const ym = (d: Date) => d.toISOString().slice(0, 7)

/** Microseconds `days` into the month that starts at `d` (the meter's clock). */
export const into = (d: Date, days: number) => BigInt(d.getTime() + days * 86_400_000) * 1000n

/** Σ of an org's ledger entries of `kind`. */
export async function entriesOf(db: Db, orgId: string, kind: string) {
  const all = await listLedgerEntries(db, { orgId, limit: 1000 })
  return all.filter((e) => e.kind === kind).reduce((s, e) => s + e.amount, 0n)
}
