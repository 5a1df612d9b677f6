import {
  type Chain,
  isAddressEqual,
  type PublicActions,
  parseEventLogs,
  type TransactionReceipt,
  type Transport,
} from 'viem'
import { usdcAbi } from '../chain/abis.js'
import type { Deployment } from '../chain/deployment.js'
import { findReceipt } from '../chain/findReceipt.js'
import type { Db } from '../db/client.js'
import type { LedgerMismatch } from '../ledger/index.js'
import { referenceOf } from './creditPayment.js'
import { type Payment, paymentColumns, toPayment } from './paymentRow.js'

type Ctx = {
  db: Db
  client: Pick<PublicActions<Transport, Chain>, 'getTransactionReceipt'>
  deployment: Deployment
}

/** Receipts read at once: enough to hide latency, few enough for any RPC's rate limit. */
const PARALLEL = 8

/**
 * Every x402 payment against the chain and the ledger, one by one: a settled payment is
 * credited, and its credit is the prepaid ledger's `x402` credit of the same org, amount and
 * reference (the authorization); its transaction holds the token's `AuthorizationUsed` for the
 * payer's nonce and the `Transfer` of the value from the payer to the payee — each Transfer
 * matched to one payment only. Every `x402` prepaid credit has its settled payment.
 */
export async function matchX402Payments(
  ctx: Ctx,
  p: { orgId?: string },
): Promise<LedgerMismatch[]> {
  const org = p.orgId ?? null
  const payments = (
    await ctx.db.$client.unsafe(
      `select ${paymentColumns} from x402_payments
       where status = 'settled' and ($1::uuid is null or org_id = $1::uuid) order by id`,
      [org],
    )
  ).map(toPayment)
  const credits = await ctx.db.$client<
    { org_id: string; reference: string; amount: bigint; entry_seq: bigint }[]
  >`select org_id, reference, amount, entry_seq from prepaid_credits
    where source = 'x402' and (${org}::uuid is null or org_id = ${org}::uuid)`
  const byReference = new Map(credits.map((c) => [c.reference, c]))
  const out: LedgerMismatch[] = []
  const claimed = new Set<string>()
  for (let i = 0; i < payments.length; i += PARALLEL) {
    const slice = payments.slice(i, i + PARALLEL)
    const receipts = await Promise.all(
      slice.map((x) => (x.txHash ? findReceipt(ctx.client, x.txHash) : undefined)),
    )
    for (const [k, x] of slice.entries()) {
      const ref = referenceOf(x)
      const credit = byReference.get(ref)
      byReference.delete(ref)
      out.push(...matchOne(ctx, x, receipts[k], credit, claimed))
    }
  }
  for (const c of byReference.values())
    out.push({
      orgId: c.org_id,
      check: 'an x402 prepaid credit has its settled payment',
      table: 'prepaid_credits',
      id: c.reference,
      field: 'reference',
      expected: 'a settled x402 payment',
      actual: c.reference,
    })
  return out
}

function matchOne(
  ctx: Ctx,
  x: Payment,
  receipt: TransactionReceipt | undefined,
  credit: { org_id: string; amount: bigint } | undefined,
  claimed: Set<string>,
): LedgerMismatch[] {
  const out: LedgerMismatch[] = []
  const row = (field: string, check: string, chain: unknown, ledger: unknown) =>
    out.push({
      orgId: x.orgId ?? '',
      check,
      table: 'x402_payments',
      id: x.id.toString(),
      field,
      expected: String(chain),
      actual: String(ledger),
    })
  if (x.creditedAt === null)
    row('credited_at', 'a settled x402 payment is credited', '(a time)', '(none)')
  else if (!credit)
    row('credited_at', 'a credited x402 payment has its prepaid credit', 'a credit', '(none)')
  else {
    if (credit.org_id !== x.orgId)
      row('org_id', 'the prepaid credit is for the paying org', credit.org_id, x.orgId)
    if (BigInt(credit.amount) !== x.value)
      row('value', 'the prepaid credit is the payment', credit.amount, x.value)
  }
  if (!receipt) {
    row('tx_hash', "the payment's transaction is on the chain", 'no such transaction', x.txHash)
    return out
  }
  const token = ctx.deployment.usdc
  const used = parseEventLogs({ abi: usdcAbi, eventName: 'AuthorizationUsed', logs: receipt.logs })
  if (
    !used.some(
      (l) =>
        isAddressEqual(l.address, token) &&
        isAddressEqual(l.args.authorizer, x.payer) &&
        l.args.nonce.toLowerCase() === x.nonce,
    )
  )
    row('nonce', 'the transaction uses this authorization', 'another authorization', x.nonce)
  const transfer = parseEventLogs({ abi: usdcAbi, eventName: 'Transfer', logs: receipt.logs }).find(
    (t) =>
      isAddressEqual(t.address, token) &&
      isAddressEqual(t.args.from, x.payer) &&
      isAddressEqual(t.args.to, ctx.deployment.payee) &&
      t.args.value === x.value &&
      !claimed.has(`${receipt.transactionHash}:${t.logIndex}`),
  )
  if (!transfer)
    row(
      'value',
      'the transaction transfers the value from the payer to the payee',
      '(none)',
      x.value,
    )
  else claimed.add(`${receipt.transactionHash}:${transfer.logIndex}`)
  if (x.blockNumber !== null && receipt.blockNumber !== x.blockNumber)
    row('block_number', 'the payment is in the block recorded', receipt.blockNumber, x.blockNumber)
  return out
}
