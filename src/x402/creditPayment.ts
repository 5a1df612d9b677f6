import { creditPrepaid } from '../ledger/index.js'
import type { Sql } from '../ledger/sql.js'
import type { X402Context } from './context.js'
import { type Payment, paymentColumns, toPayment } from './paymentRow.js'

/**
 * Opens the org a sign-up payment pays for, inside the crediting transaction, owned by the
 * payer (the API's `createOrgIn`: the org, its billing account, a first key).
 */
export type OpenSignupOrg<T extends { orgId: string }> = (
  tx: Sql,
  owner: `0x${string}`,
) => Promise<T>

export type CreditPaymentReturnType<T> = {
  payment: Payment
  /** What `openOrg` returned, when this call opened the sign-up's org (else undefined). */
  opened: T | undefined
}

/**
 * Credits a settled payment to its org's prepaid balance, once: in one transaction it locks
 * the payment's row, and unless `credited_at` is already set it opens the org of a sign-up,
 * adds the payment's value to the prepaid balance (`creditPrepaid`, source `x402`, reference
 * the authorization's nonce — itself idempotent on it) and sets `credited_at`. A crash anywhere
 * leaves either all of it or none; any number of calls, at once or after a restart, credit once.
 *
 * @example
 * const { payment } = await creditPayment(ctx, settled.id, openOrg)
 */
export async function creditPayment<T extends { orgId: string }>(
  ctx: Pick<X402Context, 'db' | 'onStep'>,
  id: bigint,
  openOrg: OpenSignupOrg<T>,
): Promise<CreditPaymentReturnType<T>> {
  const out = await ctx.db.$client.begin(async (tx) => {
    const [row] = await tx.unsafe(
      `select ${paymentColumns} from x402_payments where id = $1 for update`,
      [id.toString()],
    )
    if (!row) throw new Error(`no x402 payment ${id}`)
    const p = toPayment(row)
    if (p.status !== 'settled' || p.creditedAt !== null)
      return { payment: p, opened: undefined, credited: false }
    let opened: T | undefined
    let orgId = p.orgId
    if (p.purpose === 'signup' && orgId === null) {
      opened = await openOrg(tx, p.payer)
      orgId = opened.orgId
    }
    if (orgId === null) throw new Error(`x402 payment ${id} has no org to credit`)
    await creditPrepaid(tx, {
      orgId,
      amount: p.value,
      source: 'x402',
      reference: referenceOf(p),
    })
    const [done] = await tx.unsafe(
      `update x402_payments set org_id = $2, credited_at = clock_timestamp(),
         updated_at = clock_timestamp()
       where id = $1 returning ${paymentColumns}`,
      [id.toString(), orgId],
    )
    return { payment: toPayment(done), opened, credited: true }
  })
  if (out.credited) await ctx.onStep?.('credited', id)
  return { payment: out.payment, opened: out.opened }
}

/**
 * The ledger's reference for a payment: unique as the token's nonce rule is (one authorization
 * of one payer, on one token and chain), so the ledger itself refuses a second credit.
 */
export const referenceOf = (p: Pick<Payment, 'chainId' | 'token' | 'payer' | 'nonce'>) =>
  `${p.chainId}:${p.token.toLowerCase()}:${p.payer.toLowerCase()}:${p.nonce.toLowerCase()}`
